/* Error reporting helpers: every message names where it happened. */
#ifndef OCT_CORE_ERROR_H
#define OCT_CORE_ERROR_H

#include "octet/octet.h"

#if defined(__GNUC__)
#define OCT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OCT_PRINTF(a, b)
#endif

/* Sets err (if not NULL) and returns st. */
oct_status oct_fail(oct_error *err, oct_status st, const char *fmt, ...) OCT_PRINTF(3, 4);
/* Prefixes an existing message, e.g. with the node name. */
void oct_error_prefix(oct_error *err, const char *fmt, ...) OCT_PRINTF(2, 3);

#define OCT_TRY(expr)                    \
    do {                                 \
        oct_status oct__s = (expr);      \
        if (oct__s != OCT_OK) return oct__s; \
    } while (0)

#endif
