#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

oct_status oct_fail(oct_error *err, oct_status st, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->status = st;
    }
    return st;
}

void oct_error_prefix(oct_error *err, const char *fmt, ...) {
    if (!err) return;
    char pre[OCT_ERROR_MAX], old[OCT_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    /* Truncation is fine here: the tail of a long message matters least. */
    size_t np = strlen(pre), no = strnlen(old, sizeof old - 1);
    if (np > sizeof err->message - 1) np = sizeof err->message - 1;
    if (no > sizeof err->message - 1 - np) no = sizeof err->message - 1 - np;
    memcpy(err->message, pre, np);
    memcpy(err->message + np, old, no);
    err->message[np + no] = 0;
}

const char *oct_status_name(oct_status s) {
    switch (s) {
    case OCT_OK: return "ok";
    case OCT_E_INVALID_ARG: return "invalid argument";
    case OCT_E_IO: return "i/o error";
    case OCT_E_PARSE: return "parse error";
    case OCT_E_UNSUPPORTED: return "unsupported";
    case OCT_E_SHAPE: return "shape error";
    case OCT_E_NOMEM: return "out of memory";
    case OCT_E_RUNTIME: return "runtime error";
    case OCT_E_NOT_FOUND: return "not found";
    case OCT_E_DYNAMIC: return "dynamic shape";
    }
    return "unknown status";
}

const char *oct_version_string(void) { return "0.1.0"; }
