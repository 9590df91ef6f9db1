/* Unit tests of AdaRound (src/quant/adaround.c): the optimizer's gradient
 * against central finite differences of the loss, the rounding it finds on
 * synthetic layers against round-to-nearest, grouped layers against their
 * groups run one by one, the code constraints, determinism, bad arguments,
 * and the time per step at a ResNet-sized layer (printed, not asserted).
 * Prints failures and "N passed, N failed". */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core/arith.h"
#include "quant/adaround.h"

static uint64_t rng_state = 12345;
static double urand(void) { /* [0, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}
static double nrand(void) {
    double u = urand(), v = urand();
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (!p) {
        printf("out of memory\n");
        exit(2);
    }
    return p;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A synthetic layer: G groups of W [R, K], X = A Z per group with a random
 * A [K, K] (correlated inputs, so the rounding errors of different weights
 * interact, which is what AdaRound exploits), Y = W X, per-row scales
 * max|W_r| / qmax times scale_mul (1: no clipping). */
typedef struct layer {
    int G, R, K, M, qmax;
    float *w, *scale, *x, *y;
} layer;

static void layer_make(layer *L, int G, int R, int K, int M, int qmax, int per_tensor,
                       float scale_mul) {
    L->G = G, L->R = R, L->K = K, L->M = M, L->qmax = qmax;
    size_t nw = (size_t)G * R * K, nx = (size_t)G * K * M, ny = (size_t)G * R * M;
    L->w = xmalloc(nw * sizeof(float));
    L->scale = xmalloc((size_t)G * R * sizeof(float));
    L->x = xmalloc(nx * sizeof(float));
    L->y = xmalloc(ny * sizeof(float));
    for (size_t i = 0; i < nw; i++)
        L->w[i] = (float)(0.1 * nrand());
    float *a = xmalloc((size_t)K * K * sizeof(float));
    float *z = xmalloc((size_t)K * M * sizeof(float));
    float *col = xmalloc((size_t)K * sizeof(float));
    for (int g = 0; g < G; g++) {
        for (size_t i = 0; i < (size_t)K * K; i++)
            a[i] = (float)(nrand() / sqrt(K));
        for (size_t i = 0; i < (size_t)K * M; i++)
            z[i] = (float)nrand();
        float *xg = L->x + (size_t)g * K * M;
        for (int m = 0; m < M; m++) {
            for (int k = 0; k < K; k++) {
                double acc = 0;
                for (int j = 0; j < K; j++)
                    acc += (double)a[(size_t)k * K + j] * z[(size_t)j * M + m];
                col[k] = (float)acc;
                xg[(size_t)k * M + m] = col[k];
            }
            for (int r = 0; r < R; r++) {
                const float *wr = L->w + ((size_t)g * R + r) * K;
                double acc = 0;
                for (int k = 0; k < K; k++)
                    acc += (double)wr[k] * col[k];
                L->y[((size_t)g * R + r) * M + m] = (float)acc;
            }
        }
    }
    double tmax = 0;
    for (size_t i = 0; i < nw; i++)
        tmax = fmax(tmax, fabs(L->w[i]));
    for (int r = 0; r < G * R; r++) {
        double rmax = 0;
        for (int k = 0; k < K; k++)
            rmax = fmax(rmax, fabs(L->w[(size_t)r * K + k]));
        L->scale[r] = (float)((per_tensor ? tmax : rmax) / qmax * scale_mul);
    }
    free(a);
    free(z);
    free(col);
}

static void layer_free(layer *L) {
    free(L->w);
    free(L->scale);
    free(L->x);
    free(L->y);
}

/* Codes within +-qmax; a weight whose round-to-nearest code is +-qmax keeps
 * it; every other code is floor(w/s) or floor(w/s) + 1. */
static void check_codes(const layer *L, const int8_t *codes, const char *what) {
    size_t n = (size_t)L->G * L->R * L->K;
    size_t out_of_range = 0, moved_extreme = 0, not_floor_or_ceil = 0, extremes = 0;
    for (size_t i = 0; i < n; i++) {
        float s = L->scale[i / (size_t)L->K];
        int c = codes[i];
        int rtn = oct_quantize(L->w[i], s, 0, -L->qmax, L->qmax);
        if (c < -L->qmax || c > L->qmax) out_of_range++;
        if (rtn == L->qmax || rtn == -L->qmax) {
            extremes++;
            if (c != rtn) moved_extreme++;
        } else {
            int fl = (int)floorf(L->w[i] / s);
            if (c != fl && c != fl + 1) not_floor_or_ceil++;
        }
    }
    CHECK(out_of_range == 0, "%s: %zu codes outside +-%d", what, out_of_range, L->qmax);
    CHECK(extremes > 0 && moved_extreme == 0, "%s: %zu of %zu codes at +-qmax moved", what,
          moved_extreme, extremes);
    CHECK(not_floor_or_ceil == 0, "%s: %zu codes neither floor nor floor + 1", what,
          not_floor_or_ceil);
}

static void test_params_init(void) {
    oct_adaround_params p;
    memset(&p, 0xff, sizeof p);
    oct_adaround_params_init(&p);
    CHECK(p.iters == 10000 && p.batch == 1024 && p.reg_weight == 0.01f && p.beta_start == 20 &&
              p.beta_end == 2 && p.warmup == 0.2f && p.lr == 1e-3f,
          "default parameters");
    /* h(init_v(q)) is q's fraction */
    float worst = 0;
    for (int i = 0; i < 1000; i++) {
        float q = (float)(20 * urand() - 10);
        float v = oct_adaround_init_v(q);
        float h = 1.2f / (1 + expf(-v)) - 0.1f;
        worst = fmaxf(worst, fabsf(h - (q - floorf(q))));
    }
    CHECK(worst < 1e-5f, "h(init_v(q)) differs from q's fraction by %g", (double)worst);
}

/* The optimizer's gradient against central differences of the (double)
 * loss, on a tiny layer with some weights held at +-qmax. */
static void test_gradient(void) {
    layer L;
    const int R = 3, K = 5, M = 7, qmax = 7;
    layer_make(&L, 1, R, K, M, qmax, 0, 1.0f);
    for (size_t i = 0; i < (size_t)R * M; i++)
        L.y[i] += (float)(0.05 * nrand());
    float v[15], grad[15];
    for (int i = 0; i < R * K; i++)
        v[i] = (float)(4 * urand() - 2); /* h strictly in (0, 1) */
    for (int reg_on = 0; reg_on <= 1; reg_on++) {
        const float beta = 4, lambda = reg_on ? 0.05f : 0.01f;
        oct_error err = {0};
        double loss;
        oct_status st = oct_adaround_loss_grad(L.w, R, K, L.scale, qmax, v, L.x, L.y, M, beta,
                                               lambda, reg_on, &loss, grad, &err);
        CHECK(st == OCT_OK, "loss_grad: %s", err.message);
        if (st != OCT_OK) continue;
        double fd[15], fdmax = 0;
        for (int i = 0; i < R * K; i++) {
            float vp[15], vm[15];
            memcpy(vp, v, sizeof vp);
            memcpy(vm, v, sizeof vm);
            vp[i] = v[i] + 1e-3f;
            vm[i] = v[i] - 1e-3f;
            double lp, lm;
            oct_adaround_loss_grad(L.w, R, K, L.scale, qmax, vp, L.x, L.y, M, beta, lambda, reg_on,
                                   &lp, NULL, &err);
            oct_adaround_loss_grad(L.w, R, K, L.scale, qmax, vm, L.x, L.y, M, beta, lambda, reg_on,
                                   &lm, NULL, &err);
            /* the step actually taken, after rounding v +- eps to float */
            fd[i] = (lp - lm) / ((double)vp[i] - (double)vm[i]);
            fdmax = fmax(fdmax, fabs(fd[i]));
        }
        double worst = 0;
        int held = 0, held_bad = 0;
        for (int i = 0; i < R * K; i++) {
            int rtn = oct_quantize(L.w[i], L.scale[i / K], 0, -qmax, qmax);
            if (rtn == qmax || rtn == -qmax) {
                held++;
                if (grad[i] != 0 || fabs(fd[i]) > 1e-9 * fdmax) held_bad++;
                continue;
            }
            /* relative, floored at 1e-4 of the largest so a component that
             * happens to cancel to ~0 does not divide by ~0 */
            double rel = fabs(grad[i] - fd[i]) / fmax(fabs(fd[i]), 1e-4 * fdmax);
            worst = fmax(worst, rel);
        }
        printf("gradient (regularizer %s): max relative error %.2e over %d free weights, "
               "%d held at +-qmax\n",
               reg_on ? "on" : "off", worst, R * K - held, held);
        CHECK(worst <= 1e-3, "regularizer %d: gradient relative error %g", reg_on, worst);
        CHECK(held > 0 && held_bad == 0, "held weights: %d of %d have a gradient", held_bad, held);
    }
    layer_free(&L);
}

/* AdaRound beats round-to-nearest on a layer with correlated inputs. */
static void test_synthetic(int qmax, int per_tensor, float scale_mul, int iters) {
    layer L;
    layer_make(&L, 1, 16, 72, 4096, qmax, per_tensor, scale_mul);
    oct_adaround_params p;
    oct_adaround_params_init(&p);
    p.iters = iters;
    p.seed = 7;
    int8_t *codes = xmalloc((size_t)16 * 72);
    double mse_rtn = -1, mse_ada = -1;
    oct_error err = {0};
    double t0 = now_s();
    oct_status st = oct_adaround_layer(L.w, 1, 16, 72, L.scale, qmax, L.x, L.y, 4096, &p, codes,
                                       &mse_rtn, &mse_ada, &err);
    double t1 = now_s();
    char what[96];
    snprintf(what, sizeof what, "qmax %d %s%s", qmax, per_tensor ? "per-tensor" : "per-channel",
             scale_mul < 1 ? " clipped" : "");
    CHECK(st == OCT_OK, "%s: %s", what, err.message);
    if (st == OCT_OK) {
        printf("synthetic R 16 K 72 M 4096, %s, %d iters: MSE round-to-nearest %.4g, AdaRound "
               "%.4g, ratio %.3f (%.2f s)\n",
               what, iters, mse_rtn, mse_ada, mse_ada / mse_rtn, t1 - t0);
        CHECK(mse_ada < mse_rtn, "%s: AdaRound MSE %g not below round-to-nearest %g", what, mse_ada,
              mse_rtn);
        check_codes(&L, codes, what);
    }
    free(codes);
    layer_free(&L);
}

/* No steps: the codes are V's starting hard decisions, round half up of the
 * fraction, i.e. round-to-nearest up to exact ties. */
static void test_zero_iters(void) {
    layer L;
    layer_make(&L, 1, 16, 72, 512, 31, 0, 1.0f);
    oct_adaround_params p;
    oct_adaround_params_init(&p);
    p.iters = 0;
    size_t n = (size_t)16 * 72, diff = 0;
    int8_t *codes = xmalloc(n);
    double a = -1, b = -2;
    oct_error err = {0};
    oct_status st =
        oct_adaround_layer(L.w, 1, 16, 72, L.scale, 31, L.x, L.y, 512, &p, codes, &a, &b, &err);
    CHECK(st == OCT_OK, "zero iters: %s", err.message);
    for (size_t i = 0; i < n; i++)
        if (codes[i] != oct_quantize(L.w[i], L.scale[i / 72], 0, -31, 31)) diff++;
    CHECK(diff <= n / 1000, "zero iters: %zu codes differ from round-to-nearest", diff);
    CHECK(st == OCT_OK && (diff > 0 || a == b), "zero iters: MSE %g vs %g", a, b);
    free(codes);
    layer_free(&L);
}

/* A grouped layer gives what its groups give one at a time. */
static void test_grouped(void) {
    const int G = 4, R = 8, K = 18, M = 2048, qmax = 7;
    layer L;
    layer_make(&L, G, R, K, M, qmax, 0, 1.0f);
    oct_adaround_params p;
    oct_adaround_params_init(&p);
    p.iters = 500;
    p.batch = 256;
    p.seed = 99;
    size_t n = (size_t)G * R * K;
    int8_t *codes = xmalloc(n), *one = xmalloc(n);
    double rtn_all, ada_all, rtn_sum = 0, ada_sum = 0;
    oct_error err = {0};
    oct_status st = oct_adaround_layer(L.w, G, R, K, L.scale, qmax, L.x, L.y, M, &p, codes,
                                       &rtn_all, &ada_all, &err);
    CHECK(st == OCT_OK, "grouped: %s", err.message);
    for (int g = 0; g < G && st == OCT_OK; g++) {
        double r1, a1;
        st = oct_adaround_layer(L.w + (size_t)g * R * K, 1, R, K, L.scale + (size_t)g * R, qmax,
                                L.x + (size_t)g * K * M, L.y + (size_t)g * R * M, M, &p,
                                one + (size_t)g * R * K, &r1, &a1, &err);
        CHECK(st == OCT_OK, "group %d alone: %s", g, err.message);
        rtn_sum += r1 / G;
        ada_sum += a1 / G;
    }
    if (st == OCT_OK) {
        size_t diff = 0;
        for (size_t i = 0; i < n; i++)
            diff += codes[i] != one[i];
        CHECK(diff == 0, "grouped: %zu codes differ from the groups run one by one", diff);
        CHECK(fabs(rtn_all - rtn_sum) <= 1e-6 * rtn_sum &&
                  fabs(ada_all - ada_sum) <= 1e-6 * ada_sum,
              "grouped MSE %g / %g, groups one by one %g / %g", rtn_all, ada_all, rtn_sum, ada_sum);
        printf("grouped G 4 R 8 K 18, qmax 7, 500 iters: ratio %.3f, equal to the groups run "
               "alone\n",
               ada_all / rtn_all);
        CHECK(ada_all < rtn_all, "grouped: AdaRound %g not below round-to-nearest %g", ada_all,
              rtn_all);
        check_codes(&L, codes, "grouped");
    }
    free(codes);
    free(one);
    layer_free(&L);
}

static void test_deterministic(void) {
    layer L;
    layer_make(&L, 1, 16, 72, 4096, 7, 0, 1.0f);
    oct_adaround_params p;
    oct_adaround_params_init(&p);
    p.iters = 300;
    p.seed = 3;
    size_t n = (size_t)16 * 72, diff_seed = 0;
    int8_t *c1 = xmalloc(n), *c2 = xmalloc(n), *c3 = xmalloc(n);
    double r1, a1, r2, a2, r3, a3;
    oct_error err = {0};
    oct_status s1 =
        oct_adaround_layer(L.w, 1, 16, 72, L.scale, 7, L.x, L.y, 4096, &p, c1, &r1, &a1, &err);
    oct_status s2 =
        oct_adaround_layer(L.w, 1, 16, 72, L.scale, 7, L.x, L.y, 4096, &p, c2, &r2, &a2, &err);
    p.seed = 4;
    oct_status s3 =
        oct_adaround_layer(L.w, 1, 16, 72, L.scale, 7, L.x, L.y, 4096, &p, c3, &r3, &a3, &err);
    CHECK(s1 == OCT_OK && s2 == OCT_OK && s3 == OCT_OK, "deterministic: %s", err.message);
    CHECK(memcmp(c1, c2, n) == 0 && a1 == a2 && r1 == r2, "same seed, different results");
    for (size_t i = 0; i < n; i++)
        diff_seed += c1[i] != c3[i];
    printf("seeds 3 and 4 (300 iters): %zu of %zu codes differ\n", diff_seed, n);
    free(c1);
    free(c2);
    free(c3);
    layer_free(&L);
}

static void test_bad_args(void) {
    float w[6] = {0.1f, -0.2f, 0.3f, 0.05f, 0, -0.4f}, s[2] = {0.01f, 0.01f};
    float x[3 * 4] = {0}, y[2 * 4] = {0};
    int8_t c[6];
    oct_adaround_params p;
    oct_adaround_params_init(&p);
    p.iters = 5;
    oct_error err;
#define BAD(call, what)                                                                            \
    do {                                                                                           \
        memset(&err, 0, sizeof err);                                                               \
        oct_status st_ = (call);                                                                   \
        CHECK(st_ == OCT_E_INVALID_ARG && err.message[0], "%s: status %d, message '%s'", what,     \
              (int)st_, err.message);                                                              \
    } while (0)
    BAD(oct_adaround_layer(w, 0, 2, 3, s, 7, x, y, 4, &p, c, NULL, NULL, &err), "G 0");
    BAD(oct_adaround_layer(w, 1, -2, 3, s, 7, x, y, 4, &p, c, NULL, NULL, &err), "R -2");
    BAD(oct_adaround_layer(w, 1, 2, 0, s, 7, x, y, 4, &p, c, NULL, NULL, &err), "K 0");
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 7, x, y, 0, &p, c, NULL, NULL, &err), "M 0");
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 8, x, y, 4, &p, c, NULL, NULL, &err), "qmax 8");
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 128, x, y, 4, &p, c, NULL, NULL, &err), "qmax 128");
    BAD(oct_adaround_layer(NULL, 1, 2, 3, s, 7, x, y, 4, &p, c, NULL, NULL, &err), "w NULL");
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 7, x, y, 4, &p, NULL, NULL, NULL, &err), "codes NULL");
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 7, x, NULL, 4, &p, c, NULL, NULL, &err), "y NULL");
    float bad_s[3] = {0, -1, NAN};
    for (int i = 0; i < 3; i++) {
        float s2[2] = {0.01f, bad_s[i]};
        BAD(oct_adaround_layer(w, 1, 2, 3, s2, 7, x, y, 4, &p, c, NULL, NULL, &err), "bad scale");
    }
    float s_inf[2] = {INFINITY, 0.01f};
    BAD(oct_adaround_layer(w, 1, 2, 3, s_inf, 7, x, y, 4, &p, c, NULL, NULL, &err), "inf scale");
    float w_nan[6] = {0.1f, NAN, 0, 0, 0, 0};
    BAD(oct_adaround_layer(w_nan, 1, 2, 3, s, 7, x, y, 4, &p, c, NULL, NULL, &err), "NaN weight");
    float x_inf[12] = {0, 0, INFINITY};
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 7, x_inf, y, 4, &p, c, NULL, NULL, &err), "inf input");
    oct_adaround_params q = p;
    q.iters = -1;
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 7, x, y, 4, &q, c, NULL, NULL, &err), "iters -1");
    q = p, q.batch = 0;
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 7, x, y, 4, &q, c, NULL, NULL, &err), "batch 0");
    q = p, q.lr = 0;
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 7, x, y, 4, &q, c, NULL, NULL, &err), "lr 0");
    q = p, q.reg_weight = -1;
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 7, x, y, 4, &q, c, NULL, NULL, &err), "lambda -1");
    q = p, q.beta_end = 0.5f;
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 7, x, y, 4, &q, c, NULL, NULL, &err), "beta 0.5");
    q = p, q.warmup = 1.5f;
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 7, x, y, 4, &q, c, NULL, NULL, &err), "warmup 1.5");
    q = p, q.warmup = NAN;
    BAD(oct_adaround_layer(w, 1, 2, 3, s, 7, x, y, 4, &q, c, NULL, NULL, &err), "warmup NaN");
    double loss;
    float v[6] = {0};
    BAD(oct_adaround_loss_grad(w, 2, 3, s, 7, v, x, y, 4, 0.5f, 0.01f, 1, &loss, NULL, &err),
        "loss_grad beta 0.5");
    BAD(oct_adaround_loss_grad(w, 2, 3, s, 5, v, x, y, 4, 2, 0.01f, 1, &loss, NULL, &err),
        "loss_grad qmax 5");
#undef BAD
    /* the good call with the same arrays works, and NULL params means the defaults */
    memset(&err, 0, sizeof err);
    CHECK(oct_adaround_layer(w, 1, 2, 3, s, 7, x, y, 4, &p, c, NULL, NULL, &err) == OCT_OK,
          "good call: %s", err.message);
    p.iters = 10000;
    CHECK(oct_adaround_layer(w, 1, 2, 3, s, 7, x, y, 4, NULL, c, NULL, NULL, &err) == OCT_OK,
          "default params: %s", err.message);
}

/* Time per step at a ResNet-50-sized 3x3 conv (256 out, 256 in: K 2304),
 * batch 1024: the difference between 0 and n steps, so the setup and the
 * two MSE passes are not counted. */
static void test_timing(void) {
    const int R = 256, K = 2304, M = 2048, n_iter = 12;
    size_t nw = (size_t)R * K;
    float *w = xmalloc(nw * sizeof(float)), *s = xmalloc((size_t)R * sizeof(float));
    float *x = xmalloc((size_t)K * M * sizeof(float)), *y = xmalloc((size_t)R * M * sizeof(float));
    for (size_t i = 0; i < nw; i++)
        w[i] = (float)(0.05 * nrand());
    for (int r = 0; r < R; r++)
        s[r] = 0.15f / 127;
    for (size_t i = 0; i < (size_t)K * M; i++)
        x[i] = (float)nrand();
    for (size_t i = 0; i < (size_t)R * M; i++)
        y[i] = (float)nrand();
    int8_t *codes = xmalloc(nw);
    oct_adaround_params p;
    oct_adaround_params_init(&p);
    p.warmup = 0.5f; /* half the steps with the regularizer */
    oct_error err = {0};
    double mr, ma;
    p.iters = 0;
    double t0 = now_s();
    oct_status st = oct_adaround_layer(w, 1, R, K, s, 127, x, y, M, &p, codes, &mr, &ma, &err);
    double t1 = now_s();
    p.iters = n_iter;
    if (st == OCT_OK)
        st = oct_adaround_layer(w, 1, R, K, s, 127, x, y, M, &p, codes, &mr, &ma, &err);
    double t2 = now_s();
    CHECK(st == OCT_OK, "timing layer: %s", err.message);
    double per = ((t2 - t1) - (t1 - t0)) / n_iter;
    printf("time per step, R %d K %d batch %d: %.1f ms (%.1f GFLOP/s on the two GEMMs; "
           "10000 steps: %.0f s)\n",
           R, K, p.batch, 1e3 * per, 4.0 * R * K * p.batch / per * 1e-9, 1e4 * per);
    free(w);
    free(s);
    free(x);
    free(y);
    free(codes);
}

int main(void) {
    test_params_init();
    test_gradient();
    test_zero_iters();
    test_synthetic(7, 0, 1.0f, 2000);
    test_synthetic(127, 0, 1.0f, 2000);
    test_synthetic(7, 1, 0.7f, 2000);
    test_grouped();
    test_deterministic();
    test_bad_args();
    test_timing();
    return check_summary();
}
