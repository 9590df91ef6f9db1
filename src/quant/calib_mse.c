/* mse: the threshold T minimising the expected squared error of symmetric
 * int8 quantization with step s = T / 127, estimated from the histogram with
 * each bin's values at its centre c_k:
 *   E(T) = sum_{c_k < T} n_k s^2 / 12  +  sum_{c_k > T} n_k (c_k - T)^2
 * (uniform rounding noise inside the range, clipping error beyond it).
 * Candidates are the bin edges T = j w, j = 128 .. nbins, so no bin straddles
 * T and every kept bin is no wider than a step (j >= 128 > 127); the first
 * (smallest) minimiser wins and the result is capped at absmax (above absmax
 * nothing is clipped and the noise only grows). */
#include <math.h>

#include "quant/calibrator.h"

static oct_status mse_threshold(const oct_histogram *h, const oct_calib_params *p, double *amax,
                                oct_error *err) {
    (void)p;
    OCT_TRY(oct_calib_need_bins(h, "mse", err));
    const int L = OCT_CALIB_LEVELS, n = h->nbins;
    *amax = h->absmax;
    if (h->total == 0 || !(h->range > 0) || n <= L) return OCT_OK;
    /* In units of w^2: noise = inside (j / 127)^2 / 12, clip = n_k (k + 0.5 - j)^2. */
    int64_t inside = 0;
    for (int k = 0; k < L; k++) inside += h->bins[k];
    double best = INFINITY;
    int best_j = n;
    for (int j = L; j <= n; j++) {
        double step = j / 127.0;
        double e = (double)inside * step * step / 12.0;
        for (int k = j; k < n; k++)
            if (h->bins[k]) {
                double d = k + 0.5 - j;
                e += (double)h->bins[k] * d * d;
            }
        if (e < best) {
            best = e;
            best_j = j;
        }
        if (j < n) inside += h->bins[j];
    }
    double t = best_j * oct_hist_bin_width(h);
    if (t < *amax) *amax = t;
    return OCT_OK;
}

double oct_calib_expected_mse(const oct_histogram *h, double amax) {
    double w = oct_hist_bin_width(h);
    if (!h->bins || h->total == 0 || !(w > 0) || !(amax > 0)) return 0;
    double step = amax / 127.0, e = 0;
    for (int k = 0; k < h->nbins; k++) {
        if (!h->bins[k]) continue;
        double c = (k + 0.5) * w, n = (double)h->bins[k];
        e += c <= amax ? n * step * step / 12.0 : n * (c - amax) * (c - amax);
    }
    return e / (double)h->total;
}

const oct_calibrator oct_calib_mse = {"mse", 1, mse_threshold};
