/* percentile[:P]: the P-th percentile of |x|, interpolated linearly inside
 * the histogram bin that holds it (oct_hist_percentile); P = 100 is minmax. */
#include "quant/calibrator.h"

static oct_status percentile_threshold(const oct_histogram *h, const oct_calib_params *p,
                                       double *amax, oct_error *err) {
    OCT_TRY(oct_calib_need_bins(h, "percentile", err));
    if (!(p->percentile > 0 && p->percentile <= 100))
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "percentile: P must be in (0, 100], got %g", p->percentile);
    *amax = oct_hist_percentile(h, p->percentile);
    return OCT_OK;
}

const oct_calibrator oct_calib_percentile = {"percentile", 1, percentile_threshold};
