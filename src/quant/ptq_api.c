/* The PTQ method list and cross-layer equalization as a model-to-model step
 * (octet/ptq.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "octet/ptq.h"
#include "quant/cle.h"

static const struct {
    const char *name, *alias;
    unsigned bit;
} methods[] = {{"cle", "equalization", OCT_PTQ_CLE},
               {"bias-correction", "bc", OCT_PTQ_BIAS_CORRECTION},
               {"adaround", NULL, OCT_PTQ_ADAROUND}};

oct_status oct_ptq_parse(const char *list, unsigned *out, oct_error *err) {
    *out = 0;
    if (!list || !*list)
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "--ptq: expected a list such as cle,bias-correction,adaround");
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        int found = 0;
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
            if ((strlen(methods[i].name) == n && !strncmp(p, methods[i].name, n)) ||
                (methods[i].alias && strlen(methods[i].alias) == n &&
                 !strncmp(p, methods[i].alias, n))) {
                *out |= methods[i].bit;
                found = 1;
            }
        if (!found)
            return oct_fail(
                err, OCT_E_INVALID_ARG,
                "--ptq: unknown method '%.*s' (expected cle, bias-correction, adaround)", (int)n,
                p);
        p += n;
        if (*p == ',') p++;
    }
    return OCT_OK;
}

const char *oct_ptq_name(unsigned m, char *buf, size_t n) {
    if (!n) return buf;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (m & methods[i].bit) {
            size_t l = strlen(buf);
            snprintf(buf + l, n - l, "%s%s", l ? "," : "", methods[i].name);
        }
    if (!buf[0]) snprintf(buf, n, "none");
    return buf;
}

oct_status oct_ptq_equalize(const char *model_path, const char *out_path, int *pairs, double *ms,
                            oct_error *err) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    oct_cle_report rep;
    memset(&rep, 0, sizeof rep);
    oct_status st = oct_cle_apply(model_path, out_path, &rep, err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (pairs) *pairs = st ? 0 : rep.n_pairs;
    if (ms) *ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    oct_cle_report_free(&rep);
    return st;
}
