/* minmax: the largest |x| seen; every value is representable, none clipped. */
#include "quant/calibrator.h"

static oct_status minmax_threshold(const oct_histogram *h, const oct_calib_params *p, double *amax,
                                   oct_error *err) {
    (void)p;
    (void)err;
    *amax = h->absmax;
    return OCT_OK;
}

const oct_calibrator oct_calib_minmax = {"minmax", 0, minmax_threshold};
