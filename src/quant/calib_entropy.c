/* entropy: TensorRT's Entropy2 (KL-divergence) calibration over the 2048-bin
 * magnitude histogram. For every candidate i = 128 .. nbins:
 *   P = bins[0..i) with the outlier mass sum(bins[i..]) added to bin i-1;
 *   Q = bins[0..i) merged into 128 groups, bin j in group floor(128 j / i),
 *       each group's sum spread evenly over the group's non-empty bins
 *       (empty bins stay empty); the outliers are not part of Q;
 *   KL(P || Q) = sum over P_j > 0 of p_j ln(p_j / q_j), both normalized.
 * The one place P > 0 while Q = 0 is bin i-1 when it is empty but receives
 * the outliers; there Q gets EPS of a count (MXNet's constant, used only
 * there), so clipping into a gap costs about p_out ln(n_out / EPS) instead
 * of making the candidate impossible. A candidate whose bins[0..i-1) are
 * all empty is skipped: P and Q would be the same single spike at bin i-1,
 * KL 0 however much is clipped. i = nbins is "no clipping". The first (smallest) i with
 * the smallest KL wins; the threshold is (i + 0.5) * bin width, capped at
 * absmax. docs/calibration.md says why each choice. */
#include <math.h>
#include <stdlib.h>

#include "quant/calibrator.h"

#define EPS 1e-4

/* log(p_j / q_j) = log P_j - log(S_g / m_g) + log(sum Q / sum P): the logs of
 * the counts are computed once, one log per group per candidate. */
static double kl_candidate(const int64_t *bins, const double *logc, int i, int64_t total,
                           int64_t outliers) {
    const int L = OCT_CALIB_LEVELS;
    int64_t sq = total - outliers;
    if (sq - bins[i - 1] <= 0) return INFINITY;
    int gap = bins[i - 1] == 0 && outliers > 0;
    double sp = (double)total;
    double c0 = log(((double)sq + (gap ? EPS : 0)) / sp);
    double sum = 0;
    for (int g = 0; g < L; g++) {
        int lo = (int)(((int64_t)g * i + L - 1) / L);
        int hi = (int)(((int64_t)(g + 1) * i + L - 1) / L);
        int64_t s = 0;
        int m = 0;
        for (int j = lo; j < hi; j++)
            if (bins[j] > 0) {
                s += bins[j];
                m++;
            }
        if (m == 0) continue;
        double lq = log((double)s / m);
        for (int j = lo; j < hi; j++) {
            if (bins[j] == 0) continue;
            if (j == i - 1 && outliers > 0) {
                double pj = (double)(bins[j] + outliers);
                sum += pj * (log(pj) - lq + c0);
            } else {
                sum += (double)bins[j] * (logc[j] - lq + c0);
            }
        }
    }
    if (gap) sum += (double)outliers * (log((double)outliers) - log(EPS) + c0);
    return sum / sp;
}

static oct_status entropy_threshold(const oct_histogram *h, const oct_calib_params *p, double *amax,
                                    oct_error *err) {
    (void)p;
    OCT_TRY(oct_calib_need_bins(h, "entropy", err));
    const int L = OCT_CALIB_LEVELS, n = h->nbins;
    *amax = h->absmax;
    if (h->total == 0 || !(h->range > 0) || n <= L) return OCT_OK;
    double *logc = malloc((size_t)n * sizeof *logc);
    if (!logc) return oct_fail(err, OCT_E_NOMEM, "entropy: out of memory");
    int64_t inside = 0;
    for (int j = 0; j < n; j++) {
        logc[j] = h->bins[j] > 0 ? log((double)h->bins[j]) : 0;
        if (j < L) inside += h->bins[j];
    }
    double best = INFINITY;
    int best_i = -1;
    for (int i = L; i <= n; i++) {
        double kl = kl_candidate(h->bins, logc, i, h->total, h->total - inside);
        if (kl < best) {
            best = kl;
            best_i = i;
        }
        if (i < n) inside += h->bins[i];
    }
    free(logc);
    if (best_i >= 0) {
        double t = (best_i + 0.5) * oct_hist_bin_width(h);
        if (t < *amax) *amax = t;
    }
    return OCT_OK;
}

const oct_calibrator oct_calib_entropy = {"entropy", 1, entropy_threshold};
