/* Streaming statistics of one tensor for calibration: min, max, abs-max,
 * counts, and a 2048-bin histogram of |x| that the calibrators read.
 *
 * Two ways to fill the bins (docs/calibration.md has the full story):
 *
 * - OCT_HIST_TWO_PASS, TensorRT's scheme and the default: every
 *   oct_hist_observe call of pass 1 only tracks the ranges; then
 *   oct_hist_end_first_pass fixes the bins to [0, absmax]; pass 2 feeds the
 *   same data again and bins it. The histogram is exactly TensorRT's.
 *
 * - OCT_HIST_STREAMING, one pass: the range is the smallest power of two
 *   above every |x| seen so far; when a batch exceeds it the range doubles
 *   (as often as needed) and each new bin is the exact sum of the 2^k old
 *   bins it covers. With a power-of-two width, floor(|x| / width) is exact,
 *   so every bin counts exactly the values in [k w, (k+1) w) of the final
 *   width: no redistribution, no dependence on batch order. The price is
 *   resolution: absmax lies in [range/2, range), so the data occupy 1024 to
 *   2048 bins instead of TensorRT's 2048.
 *
 * Bins are integers (int64), so sums are exact. NaN and +-Inf are counted
 * in `nonfinite` and otherwise ignored. With OCT_HIST_SIGNED, two more
 * histograms of the same kind hold the magnitudes of the negative values
 * (`neg`, over [0, -min]) and of the non-negative ones (`pos`, over
 * [0, max]) for asymmetric calibration: together they cover [min, max]
 * with 2048 bins on each side of 0. */
#ifndef OCT_QUANT_HISTOGRAM_H
#define OCT_QUANT_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "quant/plan.h"

#define OCT_HIST_BINS 2048

typedef enum oct_hist_mode {
    OCT_HIST_TWO_PASS = 0,
    OCT_HIST_STREAMING = 1
} oct_hist_mode;

/* oct_hist_init flags */
#define OCT_HIST_SIGNED 1

typedef struct oct_histogram {
    /* The magnitude histogram: bin k counts values v = |x| with
     * k * range/nbins <= v < (k+1) * range/nbins; in two-pass mode the last
     * bin also takes v == range, and values of pass 2 above range (data that
     * differ from pass 1) are counted in the last bin and in `clamped`. */
    int nbins;
    double range;      /* upper edge of the last bin; 0 until a nonzero value is binned */
    double absmax;     /* the exact largest |x| (in two-pass mode: from pass 1) */
    int64_t total;     /* values in the bins */
    int64_t clamped;   /* pass-2 values beyond range (two-pass only) */
    int64_t *bins;

    /* Statistics of the finite values (pass 1 only in two-pass mode). The
     * signed halves leave these at zero. */
    double min, max;   /* meaningful when count > 0 */
    int64_t count;     /* finite values seen */
    int64_t nonfinite; /* NaN and +-Inf seen */

    /* OCT_HIST_SIGNED: magnitudes of x < 0 and of x >= 0, each a histogram
     * of this same type (bins, range, absmax, total); NULL otherwise. */
    struct oct_histogram *neg, *pos;

    oct_hist_mode mode;
    int binning;       /* 0: two-pass, still in pass 1; 1: bins are being filled */
} oct_histogram;

oct_status oct_hist_init(oct_histogram *h, oct_hist_mode mode, int flags, oct_error *err);
void oct_hist_free(oct_histogram *h);

/* Feeds n values. Never fails; any float value is accepted. */
void oct_hist_observe(oct_histogram *h, const float *x, size_t n);

/* Two-pass mode: ends pass 1 and fixes the bins to [0, absmax] (and the
 * signed halves to [0, -min] and [0, max]); later observe calls bin. An
 * error in streaming mode or when called twice. */
oct_status oct_hist_end_first_pass(oct_histogram *h, oct_error *err);

/* 1 when the bins are being filled (streaming, or pass 2 begun). */
int oct_hist_binning(const oct_histogram *h);

/* Adds src into dst (e.g. per-thread collectors). Both must have the same
 * mode, flags and phase; two-pass histograms in pass 2 must share their
 * ranges (end pass 1 on the merged statistics, then copy them: see
 * oct_hist_copy_ranges). Streaming histograms merge exactly. */
oct_status oct_hist_merge(oct_histogram *dst, const oct_histogram *src, oct_error *err);
/* Two-pass mode: starts dst's pass 2 with src's ranges (src has ended pass
 * 1), so several collectors bin on one grid. */
oct_status oct_hist_copy_ranges(oct_histogram *dst, const oct_histogram *src, oct_error *err);

/* Width of one bin (0 while range is 0). */
double oct_hist_bin_width(const oct_histogram *h);

/* The value below which `rank` of the binned values lie, counting from 0:
 * the bin holding that rank is found from the cumulative counts and the
 * value is interpolated linearly inside it (values assumed uniform within
 * a bin); the result never exceeds absmax. rank <= 0 gives 0, rank >=
 * total gives absmax. */
double oct_hist_rank_value(const oct_histogram *h, double rank);
/* The p-th percentile of |x|, p in [0, 100]: oct_hist_rank_value at
 * p/100 * total. 0 when nothing was binned. */
double oct_hist_percentile(const oct_histogram *h, double p);

/* The plan's statistics summary: min, max, absmax, p99.99, count, NaN/Inf. */
void oct_hist_stats(const oct_histogram *h, oct_tensor_stats *st);

#endif
