#include "quant/histogram.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static oct_status side_alloc(oct_histogram *h, oct_hist_mode mode) {
    h->nbins = OCT_HIST_BINS;
    h->mode = mode;
    h->binning = mode == OCT_HIST_STREAMING;
    h->bins = calloc(OCT_HIST_BINS, sizeof *h->bins);
    return h->bins ? OCT_OK : OCT_E_NOMEM;
}

oct_status oct_hist_init(oct_histogram *h, oct_hist_mode mode, int flags, oct_error *err) {
    memset(h, 0, sizeof *h);
    if (mode != OCT_HIST_TWO_PASS && mode != OCT_HIST_STREAMING)
        return oct_fail(err, OCT_E_INVALID_ARG, "histogram: unknown mode %d", (int)mode);
    if (side_alloc(h, mode) != OCT_OK) goto nomem;
    if (flags & OCT_HIST_SIGNED) {
        h->neg = calloc(1, sizeof *h->neg);
        h->pos = calloc(1, sizeof *h->pos);
        if (!h->neg || !h->pos) goto nomem;
        if (side_alloc(h->neg, mode) != OCT_OK || side_alloc(h->pos, mode) != OCT_OK) goto nomem;
    }
    return OCT_OK;
nomem:
    oct_hist_free(h);
    return oct_fail(err, OCT_E_NOMEM, "histogram: out of memory");
}

void oct_hist_free(oct_histogram *h) {
    if (!h) return;
    if (h->neg) free(h->neg->bins);
    if (h->pos) free(h->pos->bins);
    free(h->neg);
    free(h->pos);
    free(h->bins);
    memset(h, 0, sizeof *h);
}

/* Streaming: widen the range (a power of two) until it exceeds vmax, summing
 * each run of 2^s old bins into one new bin. Done in place: slot k >> s <= k
 * was already read when it receives counts. */
static void grow(oct_histogram *h, double vmax) {
    if (vmax < h->range || vmax == 0) return;
    double r = h->range;
    int s = 0;
    if (r == 0) {
        int e;
        frexp(vmax, &e); /* vmax = m 2^e, m in [0.5, 1): 2^e > vmax */
        h->range = ldexp(1.0, e);
        return; /* only exact zeros were binned, all in bin 0 of any range */
    }
    while (r <= vmax) {
        r *= 2;
        s++;
    }
    for (int k = 0; k < h->nbins; k++) {
        int64_t c = h->bins[k];
        h->bins[k] = 0;
        h->bins[s >= 31 ? 0 : k >> s] += c;
    }
    h->range = r;
}

/* Range of a batch: finite min and max and the count of NaN/Inf. Branch-free
 * so the compiler vectorizes it (calibration spends its time here). */
static void batch_range(const float *x, size_t n, float *mn_out, float *mx_out, int64_t *bad_out) {
    float mn = INFINITY, mx = -INFINITY;
    int64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        int fin = fabsf(v) <= FLT_MAX;
        bad += !fin;
        float a = fin ? v : INFINITY, b = fin ? v : -INFINITY;
        mn = a < mn ? a : mn;
        mx = b > mx ? b : mx;
    }
    *mn_out = mn;
    *mx_out = mx;
    *bad_out = bad;
}

/* Counts |x| (or -x for x < 0 / x for x >= 0 with sign -1 / +1) of n values
 * into c[LANES][nbins], four interleaved partial counts: activations put
 * long runs of values into the same bin (zeros, small values), and one
 * counter would serialise every increment on the previous one. */
#define LANES 4
#define BLOCK ((size_t)1 << 28) /* keeps the uint32 partial counts exact */
static void count_lanes(const oct_histogram *h, const float *x, size_t n, int sign, uint32_t *c, int64_t *total_out,
                        int64_t *clamped_out) {
    int64_t total = 0, clamped = 0;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        if (!(fabsf(v) <= FLT_MAX) || (sign < 0 && !(v < 0)) || (sign > 0 && !(v >= 0))) continue;
        double a = fabsf(v);
        int k;
        if (a > h->range) {
            k = OCT_HIST_BINS - 1;
            clamped++;
        } else if (!(h->range > 0)) {
            k = 0;
        } else {
            /* floor(a * nbins / range) is exact: a * nbins is exact (nbins is a
             * power of two) and one correctly rounded division of two floats'
             * worth of digits cannot cross an integer the exact quotient does
             * not reach */
            int64_t g = (int64_t)(a * OCT_HIST_BINS / h->range);
            k = g >= OCT_HIST_BINS ? OCT_HIST_BINS - 1 : (int)g; /* a == range */
        }
        c[(size_t)(i & (LANES - 1)) * OCT_HIST_BINS + (size_t)k]++;
        total++;
    }
    *total_out = total;
    *clamped_out = clamped;
}

static void bin_batch(oct_histogram *h, const float *x, size_t n, int sign) {
    uint32_t c[LANES * OCT_HIST_BINS]; /* 32 KiB on the stack: no allocation per call */
    for (size_t b = 0; b < n; b += BLOCK) {
        int64_t tot, cl;
        memset(c, 0, sizeof c);
        count_lanes(h, x + b, n - b < BLOCK ? n - b : BLOCK, sign, c, &tot, &cl);
        for (size_t l = 0; l < LANES; l++)
            for (int k = 0; k < h->nbins; k++) h->bins[k] += c[l * OCT_HIST_BINS + (size_t)k];
        h->total += tot;
        h->clamped += cl;
    }
}

void oct_hist_observe(oct_histogram *h, const float *x, size_t n) {
    /* Statistics come from pass 1 only in two-pass mode: pass 2 sees the
     * same values again, and needs no range. */
    if (h->mode == OCT_HIST_STREAMING || !h->binning) {
        float fmn, fmx;
        int64_t bad;
        batch_range(x, n, &fmn, &fmx, &bad);
        int64_t cnt = (int64_t)n - bad;
        double bmin = fmn, bmax = fmx;
        double bneg = cnt > 0 && bmin < 0 ? -bmin : 0, bpos = cnt > 0 && bmax >= 0 ? bmax : 0;
        double babs = bneg > bpos ? bneg : bpos;
        if (cnt > 0) {
            if (h->count == 0 || bmin < h->min) h->min = bmin;
            if (h->count == 0 || bmax > h->max) h->max = bmax;
        }
        if (babs > h->absmax) h->absmax = babs;
        h->count += cnt;
        h->nonfinite += bad;
        if (h->neg && bneg > h->neg->absmax) h->neg->absmax = bneg;
        if (h->pos && bpos > h->pos->absmax) h->pos->absmax = bpos;
        if (!h->binning || cnt == 0) return;
        grow(h, babs);
        if (h->neg) grow(h->neg, bneg);
        if (h->pos) grow(h->pos, bpos);
    }
    bin_batch(h, x, n, 0);
    if (h->neg) {
        bin_batch(h->neg, x, n, -1);
        bin_batch(h->pos, x, n, 1);
    }
}

oct_status oct_hist_end_first_pass(oct_histogram *h, oct_error *err) {
    if (h->mode != OCT_HIST_TWO_PASS)
        return oct_fail(err, OCT_E_INVALID_ARG, "histogram: only two-pass mode has a first pass");
    if (h->binning)
        return oct_fail(err, OCT_E_INVALID_ARG, "histogram: the first pass has already ended");
    h->binning = 1;
    h->range = h->absmax;
    if (h->neg) {
        h->neg->binning = h->pos->binning = 1;
        h->neg->range = h->neg->absmax;
        h->pos->range = h->pos->absmax;
    }
    return OCT_OK;
}

int oct_hist_binning(const oct_histogram *h) { return h->binning; }

oct_status oct_hist_copy_ranges(oct_histogram *dst, const oct_histogram *src, oct_error *err) {
    if (dst->mode != OCT_HIST_TWO_PASS || src->mode != OCT_HIST_TWO_PASS || !src->binning ||
        dst->binning || !dst->neg != !src->neg)
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "histogram: copy_ranges needs two-pass histograms of the same kind, "
                        "the source past pass 1 and the destination still in it");
    dst->binning = 1;
    dst->range = src->range;
    if (dst->neg) {
        dst->neg->binning = dst->pos->binning = 1;
        dst->neg->range = src->neg->range;
        dst->pos->range = src->pos->range;
    }
    return OCT_OK;
}

/* Adds src's bins into dst's (one side). Streaming ranges are powers of two,
 * so the finer histogram folds exactly into the coarser one. */
static oct_status merge_side(oct_histogram *dst, const oct_histogram *src, oct_error *err) {
    if (dst->absmax < src->absmax) dst->absmax = src->absmax;
    if (!dst->binning) return OCT_OK;
    if (dst->mode == OCT_HIST_TWO_PASS) {
        if (dst->range != src->range)
            return oct_fail(err, OCT_E_INVALID_ARG,
                            "histogram: two-pass histograms binned over different ranges "
                            "(%.9g vs %.9g) cannot be merged", dst->range, src->range);
        for (int k = 0; k < dst->nbins; k++) dst->bins[k] += src->bins[k];
    } else {
        /* both ranges are powers of two: this makes dst's equal src's */
        if (src->range > dst->range) grow(dst, src->range / 2);
        int s = 0;
        for (double r = src->range; r > 0 && r < dst->range; r *= 2) s++;
        for (int k = 0; k < src->nbins; k++) dst->bins[s >= 31 ? 0 : k >> s] += src->bins[k];
    }
    dst->total += src->total;
    dst->clamped += src->clamped;
    return OCT_OK;
}

oct_status oct_hist_merge(oct_histogram *dst, const oct_histogram *src, oct_error *err) {
    if (dst->mode != src->mode || !dst->neg != !src->neg || dst->binning != src->binning)
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "histogram: merge needs histograms of the same mode, kind and pass");
    if (src->count > 0) {
        if (dst->count == 0 || src->min < dst->min) dst->min = src->min;
        if (dst->count == 0 || src->max > dst->max) dst->max = src->max;
    }
    dst->count += src->count;
    dst->nonfinite += src->nonfinite;
    OCT_TRY(merge_side(dst, src, err));
    if (dst->neg) {
        OCT_TRY(merge_side(dst->neg, src->neg, err));
        OCT_TRY(merge_side(dst->pos, src->pos, err));
    }
    return OCT_OK;
}

double oct_hist_bin_width(const oct_histogram *h) { return h->range / h->nbins; }

double oct_hist_rank_value(const oct_histogram *h, double rank) {
    if (h->total <= 0 || !(rank > 0)) return 0;
    if (rank >= (double)h->total) return h->absmax;
    double w = oct_hist_bin_width(h), cum = 0;
    for (int k = 0; k < h->nbins; k++) {
        double c = (double)h->bins[k];
        if (c > 0 && cum + c >= rank) {
            double v = (k + (rank - cum) / c) * w;
            return v < h->absmax ? v : h->absmax;
        }
        cum += c;
    }
    return h->absmax;
}

double oct_hist_percentile(const oct_histogram *h, double p) {
    return oct_hist_rank_value(h, p / 100.0 * (double)h->total);
}

void oct_hist_stats(const oct_histogram *h, oct_tensor_stats *st) {
    memset(st, 0, sizeof *st);
    st->min = h->count > 0 ? h->min : NAN;
    st->max = h->count > 0 ? h->max : NAN;
    st->absmax = h->count > 0 ? h->absmax : NAN;
    st->p9999 = h->binning && h->total > 0 ? oct_hist_percentile(h, 99.99) : NAN;
    st->count = h->count;
    st->nan_count = h->nonfinite;
}
