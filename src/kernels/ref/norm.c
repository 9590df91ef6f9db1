/* Reference normalizations, computed in double. Variances are biased (the
 * population variance), as ONNX specifies. */
#include <math.h>

#include "kernels/ref/ref_nn.h"

void oct_ref_batchnorm(int64_t n, int64_t c, int64_t inner, int64_t pinner, const double *x,
                       const double *scale, const double *bias, const double *mean,
                       const double *var, double eps, double *y) {
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++) {
            const double *xr = x + (b * c + ch) * inner;
            double *yr = y + (b * c + ch) * inner;
            if (pinner == 1) {
                double f = scale[ch] / sqrt(var[ch] + eps);
                for (int64_t i = 0; i < inner; i++) yr[i] = (xr[i] - mean[ch]) * f + bias[ch];
                continue;
            }
            for (int64_t i = 0; i < inner; i++) {
                int64_t k = ch * inner + i;
                yr[i] = (xr[i] - mean[k]) / sqrt(var[k] + eps) * scale[k] + bias[k];
            }
        }
}

void oct_ref_channel_moments(int64_t n, int64_t c, int64_t inner, const double *x, double *mean,
                             double *var) {
    double cnt = (double)(n * inner);
    for (int64_t ch = 0; ch < c; ch++) {
        double s = 0.0, ss = 0.0;
        for (int64_t b = 0; b < n; b++) {
            const double *xr = x + (b * c + ch) * inner;
            for (int64_t i = 0; i < inner; i++) s += xr[i];
        }
        double m = cnt > 0 ? s / cnt : 0.0;
        for (int64_t b = 0; b < n; b++) {
            const double *xr = x + (b * c + ch) * inner;
            for (int64_t i = 0; i < inner; i++) ss += (xr[i] - m) * (xr[i] - m);
        }
        mean[ch] = m;
        var[ch] = cnt > 0 ? ss / cnt : 0.0;
    }
}

/* Mean and biased variance of one row, two-pass for accuracy. */
static void row_moments(const double *x, int64_t k, double *mean, double *var) {
    double s = 0.0, ss = 0.0;
    for (int64_t i = 0; i < k; i++) s += x[i];
    double m = k > 0 ? s / (double)k : 0.0;
    for (int64_t i = 0; i < k; i++) ss += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = k > 0 ? ss / (double)k : 0.0;
}

void oct_ref_layernorm(int64_t outer, int64_t inner, const double *x, const double *scale,
                       const double *bias, double eps, double *y, double *mean_out,
                       double *inv_out) {
    for (int64_t r = 0; r < outer; r++) {
        const double *xr = x + r * inner;
        double *yr = y + r * inner, m, v;
        row_moments(xr, inner, &m, &v);
        double inv = 1.0 / sqrt(v + eps);
        for (int64_t i = 0; i < inner; i++)
            yr[i] = (xr[i] - m) * inv * scale[i] + (bias ? bias[i] : 0.0);
        if (mean_out) mean_out[r] = m;
        if (inv_out) inv_out[r] = inv;
    }
}

void oct_ref_instancenorm(int64_t n, int64_t c, int64_t inner, const double *x,
                          const double *scale, const double *bias, double eps, double *y) {
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++) {
            const double *xr = x + (b * c + ch) * inner;
            double *yr = y + (b * c + ch) * inner, m, v;
            row_moments(xr, inner, &m, &v);
            double inv = 1.0 / sqrt(v + eps);
            for (int64_t i = 0; i < inner; i++) yr[i] = (xr[i] - m) * inv * scale[ch] + bias[ch];
        }
}

void oct_ref_lrn(int64_t n, int64_t c, int64_t inner, const double *x, int64_t size,
                 double alpha, double beta, double bias, double *y) {
    /* the window over channels is [ch - floor((size-1)/2), ch + ceil((size-1)/2)] */
    int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++) {
            int64_t c0 = ch - lo < 0 ? 0 : ch - lo, c1 = ch + hi > c - 1 ? c - 1 : ch + hi;
            const double *xb = x + b * c * inner;
            double *yr = y + (b * c + ch) * inner;
            for (int64_t i = 0; i < inner; i++) {
                double sq = 0.0;
                for (int64_t k = c0; k <= c1; k++) sq += xb[k * inner + i] * xb[k * inner + i];
                yr[i] = xb[ch * inner + i] / pow(bias + alpha / (double)size * sq, beta);
            }
        }
}
