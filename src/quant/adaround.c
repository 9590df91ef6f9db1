/* AdaRound for one layer (see adaround.h). Per step and group: gather the
 * batch's columns, soft weights from V, out = W~ Xb - Yb and
 * dL/dW~ = (2/B) out Xb^T (the two sgemm calls: most of the time), then
 * dL/dV through the rectified sigmoid, and Adam. */
#include "quant/adaround.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "core/rng.h"

#ifdef OCT_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

/* The rectified sigmoid's stretch (paper and AIMET): h reaches exactly 0 and
 * 1 at finite V, so the regularizer can drive weights to a hard decision. */
#define AR_ZETA 1.1f
#define AR_GAMMA (-0.1f)

#define AR_ADAM_B1 0.9f
#define AR_ADAM_B2 0.999f
#define AR_ADAM_EPS 1e-8f

void oct_adaround_params_init(oct_adaround_params *p) {
    p->iters = 10000;
    p->batch = 1024;
    p->reg_weight = 0.01f;
    p->beta_start = 20.0f;
    p->beta_end = 2.0f;
    p->warmup = 0.2f;
    p->lr = 1e-3f;
    p->seed = 0;
}

float oct_adaround_init_v(float w_over_s) {
    float rest = w_over_s - floorf(w_over_s);
    /* rest is in [0, 1), so the argument of logf is in (0.09, 11]: finite */
    return -logf((AR_ZETA - AR_GAMMA) / (rest - AR_GAMMA) - 1.0f);
}

/* C[m, n] = alpha * A[m, k] * op(B) + beta * C, row-major; op(B) is B [k, n]
 * (transb 'N') or B^T of B [n, k] ('T'). */
static oct_status gemm(char transb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                       int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc,
                       oct_error *err) {
#ifdef OCT_HAVE_DNNL
    dnnl_status_t st = dnnl_sgemm('N', transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (st != dnnl_success)
        return oct_fail(err, OCT_E_RUNTIME, "adaround: dnnl_sgemm failed (status %d)", (int)st);
    return OCT_OK;
#else
    /* Without oneDNN (a build without libdnnl): plain loops, correct but slow. */
    (void)err;
    for (int64_t i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        for (int64_t j = 0; j < n; j++)
            ci[j] = beta == 0 ? 0 : beta * ci[j];
        if (transb == 'N') {
            for (int64_t p = 0; p < k; p++) {
                float aip = alpha * a[i * lda + p];
                const float *bp = b + p * ldb;
                for (int64_t j = 0; j < n; j++)
                    ci[j] += aip * bp[j];
            }
        } else {
            for (int64_t j = 0; j < n; j++) {
                float acc = 0;
                for (int64_t p = 0; p < k; p++)
                    acc += a[i * lda + p] * b[j * ldb + p];
                ci[j] += alpha * acc;
            }
        }
    }
    return OCT_OK;
#endif
}

/* The per-weight passes are written so gcc vectorizes them without
 * -ffast-math: libm's expf and powf are calls it cannot vectorize (they
 * took a third of a step at R 256, K 2304), and a float ?: becomes a branch
 * that, under the default -ftrapping-math, it will not if-convert once jump
 * threading has duplicated the comparisons after it. So exp2 and log2 are
 * polynomials (relative error below 3e-7) and selects work on the bits. */
static inline float ar_log2(float a) { /* a positive and normal */
    uint32_t b = oct_f32_bits(a);
    int32_t e = (int32_t)(b >> 23) - 127;
    float m = oct_bits_f32((b & 0x7fffffu) | 0x3f800000u); /* [1, 2) */
    int big = m > 1.41421356f;                             /* to [sqrt 1/2, sqrt 2) */
    m = oct_sel_f32(big, 0.5f * m, m);
    e += big;
    /* ln m = 2 atanh t, |t| <= 0.172: the series to t^9 is exact in float */
    float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
    float ln_m = t * (2.0f + t2 * (2.0f / 3 + t2 * (2.0f / 5 + t2 * (2.0f / 7 + t2 * (2.0f / 9)))));
    return (float)e + ln_m * 1.44269504f;
}
/* |u|^c for c >= 0, 0^0 = 1 (the regularizer's gradient at beta = 1). */
static inline float ar_pow_abs(float u, float c) {
    float a = oct_clamp_f32(fabsf(u), 7.8886091e-31f /* 2^-100 */, 1e30f);
    return oct_exp2f_poly(c * ar_log2(a));
}
static inline float ar_sigmoid(float v) { return 1.0f / (1.0f + oct_exp2f_poly(-1.44269504f * v)); }

/* One group's fixed description. base is floor(w/s) for a weight AdaRound
 * may round either way (free 1) and the round-to-nearest code for one held
 * at +-qmax (free 0), so the soft weight is s * clamp(base + free * h). */
typedef struct ar_group {
    int R, K;
    float qmax;
    const float *scale; /* [R] */
    const float *base;  /* [R*K] */
    const float *free;  /* [R*K], 0 or 1: a multiplier keeps the loops branch-free */
} ar_group;

/* Scratch for one group's step, reused by every group and step. */
typedef struct ar_work {
    float *wsoft, *h, *dh, *grad; /* [R*K] */
    float *xb;                    /* [K*B] */
    float *out;                   /* [R*B] */
} ar_work;

static void work_free(ar_work *wk) {
    free(wk->wsoft);
    free(wk->h);
    free(wk->dh);
    free(wk->grad);
    free(wk->xb);
    free(wk->out);
    memset(wk, 0, sizeof *wk);
}

static int work_alloc(ar_work *wk, size_t rk, size_t kb, size_t rb) {
    memset(wk, 0, sizeof *wk);
    wk->wsoft = malloc(rk * sizeof(float));
    wk->h = malloc(rk * sizeof(float));
    wk->dh = malloc(rk * sizeof(float));
    wk->grad = malloc(rk * sizeof(float));
    wk->xb = malloc(kb * sizeof(float));
    wk->out = malloc(rb * sizeof(float));
    if (!wk->wsoft || !wk->h || !wk->dh || !wk->grad || !wk->xb || !wk->out) {
        work_free(wk);
        return -1;
    }
    return 0;
}

/* base, free and (when v is not NULL) the starting V and (when rtn is not
 * NULL) the round-to-nearest codes of n_rows rows of K weights. */
static void prepare(const float *w, size_t n_rows, int K, const float *scale, int qmax, float *base,
                    float *free_, float *v, int8_t *rtn) {
    for (size_t r = 0; r < n_rows; r++) {
        float s = scale[r];
        for (int k = 0; k < K; k++) {
            size_t i = r * (size_t)K + (size_t)k;
            float q = w[i] / s;
            int32_t code = oct_quantize(w[i], s, 0, -qmax, qmax);
            if (rtn) rtn[i] = (int8_t)code;
            if (code == qmax || code == -qmax) {
                base[i] = (float)code;
                free_[i] = 0;
            } else {
                base[i] = floorf(q);
                free_[i] = 1;
            }
            if (v) v[i] = free_[i] != 0 ? oct_adaround_init_v(q) : 0;
        }
    }
}

/* dst[r, b] = sign * src[r, idx[b]] for rows of M. */
static void gather(const float *src, int rows, int M, const int *idx, int B, float sign,
                   float *dst) {
    for (int r = 0; r < rows; r++) {
        const float *s = src + (size_t)r * (size_t)M;
        float *d = dst + (size_t)r * (size_t)B;
        for (int b = 0; b < B; b++)
            d[b] = sign * s[idx[b]];
    }
}

/* One row of the soft weights: wsoft = s * clamp(base + free * h(v)), and
 * what the backward pass needs, h and dh/dv (0 where h is clipped, and for
 * weights held at +-qmax). */
static void soft_row(int K, float s, float qmax, const float *restrict v,
                     const float *restrict base, const float *restrict free_, float *restrict wsoft,
                     float *restrict h, float *restrict dh) {
    for (int k = 0; k < K; k++) {
        float sg = ar_sigmoid(v[k]);
        float hr = sg * (AR_ZETA - AR_GAMMA) + AR_GAMMA;
        float hc = oct_clamp_f32(hr, 0.0f, 1.0f);
        wsoft[k] = s * oct_clamp_f32(base[k] + free_[k] * hc, -qmax, qmax);
        h[k] = hc;
        /* torch.clamp passes the gradient on the closed interval */
        float d = free_[k] * (AR_ZETA - AR_GAMMA) * sg * (1 - sg);
        dh[k] = oct_sel_f32((hr >= 0) & (hr <= 1), d, 0.0f);
    }
}

/* One row of dL/dV, in place over g = dL/dW~. reg_k is -2 beta lambda, or 0
 * without the regularizer. */
static void grad_row(int K, float s, float qmax, float beta, float reg_k,
                     const float *restrict base, const float *restrict free_,
                     const float *restrict h, const float *restrict dh, float *restrict g) {
    for (int k = 0; k < K; k++) {
        float q = base[k] + free_[k] * h[k];
        /* the clamp to +-qmax passes no gradient where it is active */
        float dw = oct_sel_f32((q >= -qmax) & (q <= qmax), s, 0.0f);
        /* d/dh (1 - |2h - 1|^beta) = -2 beta |2h - 1|^(beta-1) sign(2h - 1) */
        float u = 2.0f * h[k] - 1.0f;
        float reg = reg_k * ar_pow_abs(u, beta - 1.0f);
        g[k] = (g[k] * dw + oct_sel_f32(u < 0, -reg, reg)) * dh[k];
    }
}

/* wk->grad = dL/dV for one group at v, on the columns idx[0..B) of x [K, M]
 * and y [R, M]. reg_on adds the rounding regularizer with exponent beta. */
static oct_status group_grad(const ar_group *gp, const float *v, const float *x, const float *y,
                             int M, const int *idx, int B, float beta, float reg_weight, int reg_on,
                             ar_work *wk, oct_error *err) {
    const int R = gp->R, K = gp->K;
    gather(x, K, M, idx, B, 1.0f, wk->xb);
    /* out starts as -Yb so the first sgemm (beta 1) leaves the error */
    gather(y, R, M, idx, B, -1.0f, wk->out);
    for (int r = 0; r < R; r++) {
        size_t o = (size_t)r * (size_t)K;
        soft_row(K, gp->scale[r], gp->qmax, v + o, gp->base + o, gp->free + o, wk->wsoft + o,
                 wk->h + o, wk->dh + o);
    }
    OCT_TRY(gemm('N', R, B, K, 1.0f, wk->wsoft, K, wk->xb, B, 1.0f, wk->out, B, err));
    OCT_TRY(gemm('T', R, K, B, 2.0f / (float)B, wk->out, B, wk->xb, B, 0.0f, wk->grad, K, err));
    /* beta 1 without the regularizer keeps the unused power finite */
    const float reg_k = reg_on ? -2.0f * beta * reg_weight : 0.0f;
    if (!reg_on) beta = 1;
    for (int r = 0; r < R; r++) {
        size_t o = (size_t)r * (size_t)K;
        grad_row(K, gp->scale[r], gp->qmax, beta, reg_k, gp->base + o, gp->free + o, wk->h + o,
                 wk->dh + o, wk->grad + o);
    }
    return OCT_OK;
}

/* torch.optim.Adam's update, bias corrections folded into step and
 * inv_sqrt_bc2 by the caller. */
static void adam_step(float *v, float *m1, float *m2, const float *g, size_t n, float step,
                      float inv_sqrt_bc2) {
    for (size_t i = 0; i < n; i++) {
        m1[i] = AR_ADAM_B1 * m1[i] + (1 - AR_ADAM_B1) * g[i];
        m2[i] = AR_ADAM_B2 * m2[i] + (1 - AR_ADAM_B2) * g[i] * g[i];
        v[i] -= step * m1[i] / (sqrtf(m2[i]) * inv_sqrt_bc2 + AR_ADAM_EPS);
    }
}

/* Sum over rows and all M columns of (s * codes X - Y)^2 for one group, in
 * column blocks of ncol so out [R, ncol] suffices. wq is scratch [R*K]. */
static oct_status group_sse(const int8_t *codes, const float *scale, int R, int K, const float *x,
                            const float *y, int M, int ncol, float *wq, float *out, double *sse,
                            oct_error *err) {
    for (int r = 0; r < R; r++)
        for (int k = 0; k < K; k++) {
            size_t i = (size_t)r * (size_t)K + (size_t)k;
            wq[i] = scale[r] * (float)codes[i];
        }
    double acc = 0;
    for (int c0 = 0; c0 < M; c0 += ncol) {
        int n = M - c0 < ncol ? M - c0 : ncol;
        for (int r = 0; r < R; r++)
            for (int j = 0; j < n; j++)
                out[(size_t)r * (size_t)n + (size_t)j] =
                    -y[(size_t)r * (size_t)M + (size_t)(c0 + j)];
        OCT_TRY(gemm('N', R, n, K, 1.0f, wq, K, x + c0, M, 1.0f, out, n, err));
        for (size_t i = 0; i < (size_t)R * (size_t)n; i++)
            acc += (double)out[i] * out[i];
    }
    *sse = acc;
    return OCT_OK;
}

static int all_finite(const float *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

/* a * b * c without size_t overflow, and small enough that the byte count
 * of a float array of that many elements fits too. */
static int size3(size_t a, size_t b, size_t c, size_t *out) {
    const size_t lim = SIZE_MAX / sizeof(float);
    if (b && a > lim / b) return -1;
    size_t ab = a * b;
    if (c && ab > lim / c) return -1;
    *out = ab * c;
    return 0;
}

static oct_status check_layer(const float *w, int G, int R, int K, const float *scale, int qmax,
                              const float *x, const float *y, int M, oct_error *err) {
    if (G <= 0 || R <= 0 || K <= 0 || M <= 0)
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "adaround: sizes must be positive (groups %d, rows %d, inputs %d, "
                        "columns %d)",
                        G, R, K, M);
    if (qmax != 7 && qmax != 31 && qmax != 63 && qmax != 127)
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "adaround: qmax %d is not 7, 31, 63 or 127 (4, 6, 7 or 8 bits)", qmax);
    if (!w || !scale || !x || !y)
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "adaround: weights, scales, inputs or targets are NULL");
    size_t nw, nx, ny;
    if (size3((size_t)G, (size_t)R, (size_t)K, &nw) ||
        size3((size_t)G, (size_t)K, (size_t)M, &nx) || size3((size_t)G, (size_t)R, (size_t)M, &ny))
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "adaround: layer too large (%d x %d x %d, %d columns)", G, R, K, M);
    for (size_t r = 0; r < (size_t)G * (size_t)R; r++)
        if (!(scale[r] > 0) || !isfinite(scale[r]))
            return oct_fail(err, OCT_E_INVALID_ARG,
                            "adaround: scale of row %zu is %g; scales must be positive and finite",
                            r, (double)scale[r]);
    if (!all_finite(w, nw))
        return oct_fail(err, OCT_E_INVALID_ARG, "adaround: the weights hold NaN or infinity");
    if (!all_finite(x, nx))
        return oct_fail(err, OCT_E_INVALID_ARG, "adaround: the inputs hold NaN or infinity");
    if (!all_finite(y, ny))
        return oct_fail(err, OCT_E_INVALID_ARG, "adaround: the targets hold NaN or infinity");
    return OCT_OK;
}

static oct_status check_params(const oct_adaround_params *p, oct_error *err) {
    if (p->iters < 0 || p->batch <= 0)
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "adaround: iters %d must be >= 0 and batch %d positive", p->iters,
                        p->batch);
    if (!(p->lr > 0) || !isfinite(p->lr) || !(p->reg_weight >= 0) || !isfinite(p->reg_weight))
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "adaround: learning rate %g must be positive and regularizer weight %g "
                        ">= 0, both finite",
                        (double)p->lr, (double)p->reg_weight);
    /* below 1, |2h - 1|^(beta - 1) in the gradient is infinite at h = 0.5 */
    if (!(p->beta_start >= 1) || !(p->beta_end >= 1) || !isfinite(p->beta_start) ||
        !isfinite(p->beta_end))
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "adaround: beta range %g -> %g must be finite and >= 1",
                        (double)p->beta_start, (double)p->beta_end);
    if (!(p->warmup >= 0 && p->warmup <= 1))
        return oct_fail(err, OCT_E_INVALID_ARG, "adaround: warmup %g is not a fraction in [0, 1]",
                        (double)p->warmup);
    return OCT_OK;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

oct_status oct_adaround_layer(const float *w, int G, int R, int K, const float *scale, int qmax,
                              const float *x, const float *y, int M, const oct_adaround_params *p,
                              int8_t *codes, double *mse_rtn, double *mse_ada, oct_error *err) {
    oct_adaround_params defaults;
    if (!p) {
        oct_adaround_params_init(&defaults);
        p = &defaults;
    }
    OCT_TRY(check_layer(w, G, R, K, scale, qmax, x, y, M, err));
    OCT_TRY(check_params(p, err));
    if (!codes) return oct_fail(err, OCT_E_INVALID_ARG, "adaround: codes is NULL");

    const int B = p->batch < M ? p->batch : M;
    const size_t rk = (size_t)R * (size_t)K, n = (size_t)G * rk;
    const size_t kb = (size_t)K * (size_t)B, rb = (size_t)R * (size_t)B;
    oct_status st = OCT_OK;
    ar_work wk;
    int wk_ok = work_alloc(&wk, rk, kb, rb) == 0;
    float *base = malloc(n * sizeof(float)), *free_ = malloc(n * sizeof(float));
    float *v = malloc(n * sizeof(float));
    float *m1 = calloc(n, sizeof(float)), *m2 = calloc(n, sizeof(float));
    int *idx = malloc((size_t)M * sizeof(int));
    if (!wk_ok || !base || !free_ || !v || !m1 || !m2 || !idx) {
        st = oct_fail(err, OCT_E_NOMEM, "adaround: out of memory for a layer of %d x %d x %d", G, R,
                      K);
        goto done;
    }

    prepare(w, (size_t)G * (size_t)R, K, scale, qmax, base, free_, v, codes);
    const size_t xg = (size_t)K * (size_t)M, yg = (size_t)R * (size_t)M;
    double sse;
    if (mse_rtn) {
        double total = 0;
        for (int g = 0; g < G && st == OCT_OK; g++) {
            st = group_sse(codes + (size_t)g * rk, scale + (size_t)g * (size_t)R, R, K,
                           x + (size_t)g * xg, y + (size_t)g * yg, M, B, wk.wsoft, wk.out, &sse,
                           err);
            total += sse;
        }
        if (st != OCT_OK) goto done;
        *mse_rtn = total / ((double)G * (double)R * (double)M);
    }

    for (int i = 0; i < M; i++)
        idx[i] = i;
    uint64_t rng = p->seed;
    const double warm = (double)p->warmup * p->iters;
    for (int t = 0; t < p->iters; t++) {
        /* A partial Fisher-Yates shuffle: B distinct columns; sorted, so the
         * gathers sweep each row of x forwards. */
        if (B < M) {
            for (int b = 0; b < B; b++) {
                int j = b + (int)(oct_splitmix64(&rng) % (uint64_t)(M - b));
                int tmp = idx[b];
                idx[b] = idx[j];
                idx[j] = tmp;
            }
            qsort(idx, (size_t)B, sizeof(int), cmp_int);
        }
        int reg_on = t >= warm;
        float beta = 0;
        if (reg_on) {
            double span = p->iters - warm;
            double rel = span > 0 ? (t - warm) / span : 0;
            beta = (float)(p->beta_end + 0.5 * (p->beta_start - p->beta_end) *
                                             (1 + cos(rel * 3.14159265358979323846)));
        }
        float step = (float)(p->lr / (1 - pow(AR_ADAM_B1, t + 1)));
        float inv_sqrt_bc2 = (float)(1 / sqrt(1 - pow(AR_ADAM_B2, t + 1)));
        for (int g = 0; g < G; g++) {
            size_t o = (size_t)g * rk;
            ar_group gp = {R, K, (float)qmax, scale + (size_t)g * (size_t)R, base + o, free_ + o};
            st = group_grad(&gp, v + o, x + (size_t)g * xg, y + (size_t)g * yg, M, idx, B, beta,
                            p->reg_weight, reg_on, &wk, err);
            if (st != OCT_OK) goto done;
            adam_step(v + o, m1 + o, m2 + o, wk.grad, rk, step, inv_sqrt_bc2);
        }
    }

    /* Finite data can still overflow float in the GEMMs (|x| near 1e30) */
    if (!all_finite(v, n)) {
        st = oct_fail(err, OCT_E_RUNTIME,
                      "adaround: the optimization diverged (non-finite rounding variables)");
        goto done;
    }
    /* h(V) >= 0.5 exactly when V >= 0 (sigmoid(V) >= 0.5); AIMET's test. */
    for (size_t i = 0; i < n; i++) {
        float q = base[i] + (free_[i] != 0 && v[i] >= 0 ? 1.0f : 0.0f);
        q = oct_clamp_f32(q, (float)-qmax, (float)qmax);
        codes[i] = (int8_t)q;
    }
    if (mse_ada) {
        double total = 0;
        for (int g = 0; g < G && st == OCT_OK; g++) {
            st = group_sse(codes + (size_t)g * rk, scale + (size_t)g * (size_t)R, R, K,
                           x + (size_t)g * xg, y + (size_t)g * yg, M, B, wk.wsoft, wk.out, &sse,
                           err);
            total += sse;
        }
        if (st != OCT_OK) goto done;
        *mse_ada = total / ((double)G * (double)R * (double)M);
    }

done:
    if (wk_ok) work_free(&wk);
    free(base);
    free(free_);
    free(v);
    free(m1);
    free(m2);
    free(idx);
    return st;
}

oct_status oct_adaround_loss_grad(const float *w, int R, int K, const float *scale, int qmax,
                                  const float *v, const float *x, const float *y, int M, float beta,
                                  float reg_weight, int reg_on, double *loss, float *grad,
                                  oct_error *err) {
    OCT_TRY(check_layer(w, 1, R, K, scale, qmax, x, y, M, err));
    if (!v || !loss) return oct_fail(err, OCT_E_INVALID_ARG, "adaround: v or loss is NULL");
    if (!(beta >= 1) || !isfinite(beta))
        return oct_fail(err, OCT_E_INVALID_ARG, "adaround: beta %g must be finite and >= 1",
                        (double)beta);
    const size_t rk = (size_t)R * (size_t)K;
    oct_status st = OCT_OK;
    ar_work wk;
    int wk_ok = work_alloc(&wk, rk, (size_t)K * (size_t)M, (size_t)R * (size_t)M) == 0;
    float *base = malloc(rk * sizeof(float)), *free_ = malloc(rk * sizeof(float));
    double *ws = malloc(rk * sizeof(double));
    int *idx = malloc((size_t)M * sizeof(int));
    if (!wk_ok || !base || !free_ || !ws || !idx) {
        st = oct_fail(err, OCT_E_NOMEM, "adaround: out of memory");
        goto done;
    }
    prepare(w, (size_t)R, K, scale, qmax, base, free_, NULL, NULL);

    double reg = 0;
    for (int r = 0; r < R; r++)
        for (int k = 0; k < K; k++) {
            size_t i = (size_t)r * (size_t)K + (size_t)k;
            double sg = 1 / (1 + exp(-(double)v[i]));
            double h = sg * ((double)AR_ZETA - (double)AR_GAMMA) + (double)AR_GAMMA;
            h = h < 0 ? 0 : h > 1 ? 1 : h;
            double q = base[i] + free_[i] * h;
            q = q < -qmax ? -qmax : q > qmax ? qmax : q;
            ws[i] = (double)scale[r] * q;
            reg += free_[i] * (1 - pow(fabs(2 * h - 1), beta));
        }
    double recon = 0;
    for (int r = 0; r < R; r++)
        for (int m = 0; m < M; m++) {
            double acc = -(double)y[(size_t)r * (size_t)M + (size_t)m];
            for (int k = 0; k < K; k++)
                acc += ws[(size_t)r * (size_t)K + (size_t)k] * x[(size_t)k * (size_t)M + (size_t)m];
            recon += acc * acc;
        }
    *loss = recon / M + (reg_on ? reg_weight * reg : 0);

    if (grad) {
        for (int i = 0; i < M; i++)
            idx[i] = i;
        ar_group gp = {R, K, (float)qmax, scale, base, free_};
        st = group_grad(&gp, v, x, y, M, idx, M, beta, reg_weight, reg_on, &wk, err);
        if (st == OCT_OK) memcpy(grad, wk.grad, rk * sizeof(float));
    }

done:
    if (wk_ok) work_free(&wk);
    free(base);
    free(free_);
    free(ws);
    free(idx);
    return st;
}
