/* The calibrator table, --method parsing and the per-tensor entry points
 * shared by every method. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "quant/calibrator.h"

static const oct_calibrator *const all_calibrators[] = {
    &oct_calib_minmax, &oct_calib_entropy, &oct_calib_percentile, &oct_calib_mse, NULL};

const oct_calibrator *const *oct_calibrator_list(void) { return all_calibrators; }

void oct_calib_params_default(oct_calib_params *p) {
    memset(p, 0, sizeof *p);
    p->percentile = OCT_CALIB_PERCENTILE_DEFAULT;
}

#define METHOD_FORMS "minmax, entropy, percentile, percentile:P (0 < P <= 100) or mse"

const oct_calibrator *oct_calibrator_find(const char *spec, oct_calib_params *p, oct_error *err) {
    oct_calib_params_default(p);
    if (!spec) {
        oct_fail(err, OCT_E_INVALID_ARG, "no calibration method given (expected " METHOD_FORMS ")");
        return NULL;
    }
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    for (int i = 0; all_calibrators[i]; i++) {
        const oct_calibrator *c = all_calibrators[i];
        if (strlen(c->name) != len || strncmp(c->name, spec, len) != 0) continue;
        if (!colon) return c;
        if (c != &oct_calib_percentile) break;
        char *end = NULL;
        double v = strtod(colon + 1, &end);
        if (end == colon + 1 || *end != 0 || !(v > 0 && v <= 100)) {
            oct_fail(err, OCT_E_INVALID_ARG,
                     "calibration method '%s': the percentile must be a number in (0, 100]", spec);
            return NULL;
        }
        p->percentile = v;
        return c;
    }
    oct_fail(err, OCT_E_INVALID_ARG, "unknown calibration method '%s' (expected " METHOD_FORMS ")",
             spec);
    return NULL;
}

void oct_calibrator_spec(const oct_calibrator *c, const oct_calib_params *p, char *buf,
                         size_t size) {
    if (c != &oct_calib_percentile) {
        snprintf(buf, size, "%s", c->name);
        return;
    }
    /* the shortest form that reads back as the same double */
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, size, "%s:%.*g", c->name, prec, p->percentile);
        const char *num = strchr(buf, ':');
        if (num && strtod(num + 1, NULL) == p->percentile) return;
    }
}

oct_status oct_calib_need_bins(const oct_histogram *h, const char *method, oct_error *err) {
    if (!h->binning || !h->bins)
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "%s: the histogram has no bins yet (two-pass mode: end pass 1 and run "
                        "pass 2 first)", method);
    return OCT_OK;
}

oct_status oct_calibrate(const oct_calibrator *c, const oct_histogram *h,
                         const oct_calib_params *p, double *amax, float *scale, oct_error *err) {
    double a = 0;
    OCT_TRY(c->threshold(h, p, &a, err));
    *amax = oct_amax_usable(a);
    *scale = oct_scale_s8(*amax);
    return OCT_OK;
}

oct_status oct_calibrate_asym(const oct_calibrator *c, const oct_histogram *h,
                              const oct_calib_params *p, double *lo, double *hi, float *scale,
                              int32_t *zero_point, oct_error *err) {
    if (!h->neg || !h->pos)
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "%s: asymmetric calibration needs a signed histogram (OCT_HIST_SIGNED)",
                        c->name);
    double tn = 0, tp = 0;
    OCT_TRY(c->threshold(h->neg, p, &tn, err));
    OCT_TRY(c->threshold(h->pos, p, &tp, err));
    *lo = -tn;
    *hi = tp;
    oct_asym_params_u8(*lo, *hi, scale, zero_point);
    return OCT_OK;
}
