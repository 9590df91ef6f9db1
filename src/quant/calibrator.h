/* Calibrators: each turns one tensor's histogram into a threshold amax, the
 * range [-amax, amax] that int8 represents (scale = amax / 127). Each method
 * is a plug-in (src/quant/calib_<name>.c) behind this table; the algorithms
 * and their exact conventions are in docs/calibration.md. */
#ifndef OCT_QUANT_CALIBRATOR_H
#define OCT_QUANT_CALIBRATOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "quant/histogram.h"

#define OCT_CALIB_PERCENTILE_DEFAULT 99.99
/* int8's magnitudes: the levels of one sign (TensorRT's 128). */
#define OCT_CALIB_LEVELS 128

typedef struct oct_calib_params {
    double percentile; /* percentile: P in (0, 100] */
} oct_calib_params;

typedef struct oct_calibrator {
    const char *name;
    /* 0: the statistics suffice (minmax), so the driver may skip filling
     * the bins (pass 2 of the two-pass scheme) when nothing else needs them. */
    int needs_histogram;
    /* Sets *amax >= 0 from a magnitude histogram: never above h->absmax,
     * 0 when the histogram holds nothing but zeros or nothing at all. */
    oct_status (*threshold)(const oct_histogram *h, const oct_calib_params *p, double *amax,
                            oct_error *err);
} oct_calibrator;

extern const oct_calibrator oct_calib_minmax;
extern const oct_calibrator oct_calib_entropy;
extern const oct_calibrator oct_calib_percentile;
extern const oct_calibrator oct_calib_mse;

void oct_calib_params_default(oct_calib_params *p);

/* Parses a --method spec: "minmax", "entropy", "percentile", "percentile:P"
 * (0 < P <= 100), "mse". Fills *p (defaults first). NULL with a message
 * listing the accepted forms when the spec is unknown or malformed. */
const oct_calibrator *oct_calibrator_find(const char *spec, oct_calib_params *p, oct_error *err);
/* The canonical spec of c with p, e.g. "percentile:99.99" (for the plan). */
void oct_calibrator_spec(const oct_calibrator *c, const oct_calib_params *p, char *buf,
                         size_t size);
/* Every calibrator, NULL-terminated. */
const oct_calibrator *const *oct_calibrator_list(void);

/* Symmetric int8 for one tensor: runs c on the magnitude histogram, applies
 * oct_amax_usable (a tensor that was always zero gets amax 1) and sets
 * *scale = oct_scale_s8(*amax). Errors when c needs bins that were never
 * filled (two-pass mode before pass 2). */
oct_status oct_calibrate(const oct_calibrator *c, const oct_histogram *h,
                         const oct_calib_params *p, double *amax, float *scale, oct_error *err);

/* Asymmetric uint8 for one tensor (needs OCT_HIST_SIGNED): c is applied to
 * each sign's magnitudes on its own, lo = -threshold(negatives),
 * hi = threshold(non-negatives); scale and zero point from
 * oct_asym_params_u8. */
oct_status oct_calibrate_asym(const oct_calibrator *c, const oct_histogram *h,
                              const oct_calib_params *p, double *lo, double *hi, float *scale,
                              int32_t *zero_point, oct_error *err);

/* The expected squared error per value of symmetric int8 with threshold
 * amax, from the histogram (bin centres; rounding noise step^2/12 inside,
 * clipping beyond): the mse calibrator's objective and what `--method auto`
 * compares thresholds by. */
double oct_calib_expected_mse(const oct_histogram *h, double amax);

/* Shared by the plug-ins: an error when h's bins were never filled. */
oct_status oct_calib_need_bins(const oct_histogram *h, const char *method, oct_error *err);

#endif
