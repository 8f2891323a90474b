/*
 * vidgan as a frei0r filter: ffmpeg -i in.mp4 -vf "frei0r=vidgan:hflip" out.mp4
 *
 * The plugin embeds the Python interpreter that built it (its venv included) and hands each
 * RGBA frame to vidgan.plugins.ffmpeg.frei0r_host.Frei0rHost, which runs a vidgan -vf chain on it.
 * One plugin instance keeps one host, so stateful stages keep their state across frames.
 *
 * The plugin never stops the host program: if Python cannot start, the chain is bad or a
 * stage raises, it prints one line to stderr and copies input frames to the output from then
 * on (until the chain parameter changes).
 *
 * Build with `vidgan ffmpeg-plugin install`, which defines:
 *   VIDGAN_PYTHON_EXECUTABLE  the python (usually a venv's bin/python) whose packages to use
 *   VIDGAN_LIBPYTHON          the libpython shared library that python runs on
 * Environment, read when Python starts:
 *   VIDGAN_PYTHON             another python executable of the same version (e.g. another venv)
 *   VIDGAN_FREI0R_TRACEBACK   if set and not "0", print full Python tracebacks on errors
 */

#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <frei0r.h>

#ifndef VIDGAN_PYTHON_EXECUTABLE
#error "define VIDGAN_PYTHON_EXECUTABLE (the python whose packages the plugin uses)"
#endif
#ifndef VIDGAN_LIBPYTHON
#error "define VIDGAN_LIBPYTHON (path of the libpython shared library)"
#endif

#define VIDGAN_EXPORT __attribute__((visibility("default")))
#define HOST_MODULE "vidgan.plugins.ffmpeg.frei0r_host"
#define HOST_CLASS "Frei0rHost"
#define LOG_PREFIX "vidgan frei0r: error: "
#define LOG_SUFFIX "; passing frames through unchanged"

typedef struct {
    unsigned int width;
    unsigned int height;
    size_t frame_bytes;
    char *chain;      /* the vidgan -vf chain, owned; "" until set */
    int chain_dirty;  /* chain changed since the host last saw it */
    int failed;       /* an error was reported: copy input to output */
    PyObject *host;   /* Frei0rHost instance, created on the first frame */
} vidgan_instance;

static pthread_mutex_t python_lock = PTHREAD_MUTEX_INITIALIZER;
static int python_state = 0; /* 0: not tried, 1: running, -1: failed to start */
static char python_error[512];

static const char *python_executable(void)
{
    const char *override = getenv("VIDGAN_PYTHON");
    return (override && *override) ? override : VIDGAN_PYTHON_EXECUTABLE;
}

static void log_error(const char *message)
{
    fprintf(stderr, LOG_PREFIX "%s" LOG_SUFFIX "\n", message);
    fflush(stderr);
}

/* Keep this library mapped for the life of the process: the interpreter it starts outlives
 * any one filter instance, and ffmpeg dlcloses the plugin when its filter graph is freed. */
static void pin_self(void)
{
    Dl_info info;
    if (dladdr((const void *)&python_state, &info) && info.dli_fname)
        dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

/* Start the interpreter once per process. Called with python_lock held. */
static int start_python(void)
{
    if (Py_IsInitialized())
        return 1; /* the host program runs Python already (or an earlier load of this plugin) */

    /* ffmpeg loads plugins RTLD_LOCAL; extension modules (numpy, av, torch) need libpython's
     * symbols in the global namespace, so promote it before the first import. */
    if (!dlopen(VIDGAN_LIBPYTHON, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD) &&
        !dlopen(VIDGAN_LIBPYTHON, RTLD_NOW | RTLD_GLOBAL)) {
        snprintf(python_error, sizeof python_error, "cannot load %s: %s", VIDGAN_LIBPYTHON, dlerror());
        return 0;
    }

    /* UTF-8 mode without touching the process locale, which belongs to the host program. */
    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    preconfig.configure_locale = 0;
    preconfig.utf8_mode = 1;
    PyStatus status = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(status)) {
        snprintf(python_error, sizeof python_error, "cannot start Python: %s",
                 status.err_msg ? status.err_msg : "unknown error");
        return 0;
    }

    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0; /* Ctrl-C stays ffmpeg's */
    config.parse_argv = 0;
    /* program_name and executable point at the venv's python, so its pyvenv.cfg is read and
     * sys.prefix / site-packages are the venv's. */
    const char *exe = python_executable();
    status = PyConfig_SetBytesString(&config, &config.program_name, exe);
    if (!PyStatus_Exception(status))
        status = PyConfig_SetBytesString(&config, &config.executable, exe);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        snprintf(python_error, sizeof python_error, "cannot start Python %s: %s", exe,
                 status.err_msg ? status.err_msg : "unknown error");
        return 0;
    }
    PyEval_SaveThread(); /* release the GIL; each call takes it with PyGILState_Ensure */
    return 1;
}

static int ensure_python(void)
{
    pthread_mutex_lock(&python_lock);
    if (python_state == 0) {
        pin_self();
        python_state = start_python() ? 1 : -1;
    }
    int ok = python_state == 1;
    pthread_mutex_unlock(&python_lock);
    return ok;
}

/* One line for the pending Python exception (cleared). Called with the GIL held. */
static void report_python_error(void)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    const char *tb = getenv("VIDGAN_FREI0R_TRACEBACK");
    if (tb && *tb && strcmp(tb, "0") != 0) {
        Py_XINCREF(type);
        Py_XINCREF(value);
        Py_XINCREF(traceback);
        PyErr_Restore(type, value, traceback);
        PyErr_Print();
    }

    PyObject *line = NULL;
    PyObject *module = PyImport_ImportModule(HOST_MODULE);
    if (module && value) {
        line = PyObject_CallMethod(module, "describe_error", "O", value);
    }
    Py_XDECREF(module);
    PyErr_Clear();
    if (!line && value) {
        PyObject *text = PyObject_Str(value);
        if (text) {
            line = PyUnicode_FromFormat("%s: %U (embedded Python: %s)", Py_TYPE(value)->tp_name, text,
                                        python_executable());
            Py_DECREF(text);
        }
        PyErr_Clear();
    }
    const char *utf8 = line ? PyUnicode_AsUTF8(line) : NULL;
    if (!utf8)
        PyErr_Clear();
    char message[2048];
    snprintf(message, sizeof message, "%s", utf8 ? utf8 : "unknown Python error");
    for (char *c = message; *c; c++) /* keep it one line */
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    log_error(message);
    Py_XDECREF(line);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
}

/* frei0r rows are width*4 bytes with no padding, but ffmpeg's frei0r filter (5.1) hands over
 * rows padded to 64 bytes: any other width comes out sheared. Warn when libavfilter hosts us. */
static void warn_row_padding(unsigned int width)
{
    if (width % 16 == 0 || !dlsym(RTLD_DEFAULT, "avfilter_version"))
        return;
    fprintf(stderr,
            "vidgan frei0r: warning: width %u is not a multiple of 16; ffmpeg pads frei0r rows, so the "
            "picture comes out sheared; pad it first: -vf \"pad=ceil(iw/16)*16:ih,frei0r=...\"\n",
            width);
    fflush(stderr);
}

/* ---------------------------------------------------------------- frei0r entry points */

VIDGAN_EXPORT int f0r_init(void)
{
    return 1; /* Python starts with the first instance, so loading the plugin stays cheap */
}

VIDGAN_EXPORT void f0r_deinit(void)
{
    /* The interpreter is left running: Python cannot be finalized and started again
     * reliably once numpy or torch were imported, and ffmpeg may load the plugin again. */
}

VIDGAN_EXPORT void f0r_get_plugin_info(f0r_plugin_info_t *info)
{
    info->name = "vidgan";
    info->author = "vidgan";
    info->plugin_type = F0R_PLUGIN_TYPE_FILTER;
    info->color_model = F0R_COLOR_MODEL_RGBA8888;
    info->frei0r_version = FREI0R_MAJOR_VERSION;
    info->major_version = 0;
    info->minor_version = 1;
    info->num_params = 1;
    info->explanation = "Runs a vidgan -vf filter chain (one frame in, one frame out, same size)";
}

VIDGAN_EXPORT void f0r_get_param_info(f0r_param_info_t *info, int param_index)
{
    if (param_index != 0)
        return;
    info->name = "chain";
    info->type = F0R_PARAM_STRING;
    info->explanation = "vidgan filter chain, e.g. stylize=style=van_gogh or hflip";
}

VIDGAN_EXPORT f0r_instance_t f0r_construct(unsigned int width, unsigned int height)
{
    if (width == 0 || height == 0)
        return NULL;
    size_t pixels = (size_t)width * (size_t)height;
    if (pixels / width != height || pixels > (size_t)PY_SSIZE_T_MAX / 4)
        return NULL;
    vidgan_instance *inst = calloc(1, sizeof *inst);
    if (!inst)
        return NULL;
    inst->chain = strdup("");
    if (!inst->chain) {
        free(inst);
        return NULL;
    }
    inst->width = width;
    inst->height = height;
    inst->frame_bytes = pixels * 4;
    inst->chain_dirty = 1;
    warn_row_padding(width);
    if (!ensure_python()) {
        log_error(python_error);
        inst->failed = 1;
    }
    return inst;
}

VIDGAN_EXPORT void f0r_destruct(f0r_instance_t instance)
{
    vidgan_instance *inst = instance;
    if (!inst)
        return;
    if (inst->host && Py_IsInitialized()) {
        PyGILState_STATE gil = PyGILState_Ensure();
        Py_CLEAR(inst->host);
        PyGILState_Release(gil);
    }
    free(inst->chain);
    free(inst);
}

VIDGAN_EXPORT void f0r_set_param_value(f0r_instance_t instance, f0r_param_t param, int param_index)
{
    vidgan_instance *inst = instance;
    if (!inst || !param || param_index != 0)
        return;
    const char *value = *(f0r_param_string *)param;
    if (!value)
        value = "";
    if (strcmp(value, inst->chain) == 0)
        return;
    char *copy = strdup(value);
    if (!copy)
        return;
    free(inst->chain);
    inst->chain = copy;
    inst->chain_dirty = 1;
    if (python_state == 1)
        inst->failed = 0; /* a new chain gets a new chance */
}

VIDGAN_EXPORT void f0r_get_param_value(f0r_instance_t instance, f0r_param_t param, int param_index)
{
    vidgan_instance *inst = instance;
    if (!inst || !param || param_index != 0)
        return;
    *(f0r_param_string *)param = inst->chain;
}

/* Create the host and give it the current chain. Called with the GIL held; 0 on error. */
static int prepare_host(vidgan_instance *inst)
{
    if (!inst->host) {
        PyObject *module = PyImport_ImportModule(HOST_MODULE);
        if (!module)
            return 0;
        inst->host = PyObject_CallMethod(module, HOST_CLASS, "II", inst->width, inst->height);
        Py_DECREF(module);
        if (!inst->host)
            return 0;
    }
    if (inst->chain_dirty) {
        PyObject *result = PyObject_CallMethod(inst->host, "set_chain", "s", inst->chain);
        if (!result)
            return 0;
        Py_DECREF(result);
        inst->chain_dirty = 0;
    }
    return 1;
}

/* The memoryviews wrap ffmpeg's buffers, which are gone after f0r_update returns. */
static void release_view(PyObject *view)
{
    if (!view)
        return;
    PyObject *result = PyObject_CallMethod(view, "release", NULL);
    Py_XDECREF(result);
    PyErr_Clear();
    Py_DECREF(view);
}

VIDGAN_EXPORT void f0r_update(f0r_instance_t instance, double time, const uint32_t *inframe, uint32_t *outframe)
{
    vidgan_instance *inst = instance;
    if (!inst || !inframe || !outframe)
        return;
    if (inst->failed) {
        memcpy(outframe, inframe, inst->frame_bytes);
        return;
    }

    PyGILState_STATE gil = PyGILState_Ensure();
    int ok = 0;
    if (prepare_host(inst)) {
        Py_ssize_t size = (Py_ssize_t)inst->frame_bytes;
        PyObject *src = PyMemoryView_FromMemory((char *)inframe, size, PyBUF_READ);
        PyObject *dst = src ? PyMemoryView_FromMemory((char *)outframe, size, PyBUF_WRITE) : NULL;
        if (src && dst) {
            PyObject *result = PyObject_CallMethod(inst->host, "update", "dOO", time, src, dst);
            ok = result != NULL;
            Py_XDECREF(result);
        }
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback); /* keep the error across the releases */
        release_view(src);
        release_view(dst);
        PyErr_Restore(type, value, traceback);
    }
    if (!ok) {
        report_python_error();
        inst->failed = 1;
    }
    PyGILState_Release(gil);
    if (!ok)
        memcpy(outframe, inframe, inst->frame_bytes);
}

VIDGAN_EXPORT void f0r_update2(f0r_instance_t instance, double time, const uint32_t *inframe1,
                               const uint32_t *inframe2, const uint32_t *inframe3, uint32_t *outframe)
{
    (void)inframe2;
    (void)inframe3;
    f0r_update(instance, time, inframe1, outframe);
}
