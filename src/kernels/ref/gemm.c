/* Reference matrix products (Gemm, MatMul). Row-by-row with the k loop
 * outside the contiguous j loop; sums accumulate in double (int64 for
 * integers) and are rounded once. */
#include <stdlib.h>

#include "kernels/ref/ref_nn.h"

void oct_ref_gemm(int64_t M, int64_t N, int64_t K, int ta, int tb, double alpha,
                  const double *a, const double *b, double beta, const double *cc,
                  int64_t cm, int64_t cn, double *y) {
    for (int64_t i = 0; i < M; i++) {
        double *yr = y + i * N;
        for (int64_t j = 0; j < N; j++) yr[j] = 0.0;
        for (int64_t k = 0; k < K; k++) {
            double av = ta ? a[k * M + i] : a[i * K + k];
            if (tb)
                for (int64_t j = 0; j < N; j++) yr[j] += av * b[j * K + k];
            else
                for (int64_t j = 0; j < N; j++) yr[j] += av * b[k * N + j];
        }
        for (int64_t j = 0; j < N; j++) {
            double cv = cc ? cc[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)] : 0.0;
            yr[j] = alpha * yr[j] + (cc ? beta * cv : 0.0);
        }
    }
}

void oct_ref_matmul_f64(int64_t M, int64_t N, int64_t K, const double *a, const double *b,
                        double *y) {
    for (int64_t i = 0; i < M; i++) {
        double *yr = y + i * N;
        for (int64_t j = 0; j < N; j++) yr[j] = 0.0;
        for (int64_t k = 0; k < K; k++) {
            double av = a[i * K + k];
            const double *br = b + k * N;
            for (int64_t j = 0; j < N; j++) yr[j] += av * br[j];
        }
    }
}

void oct_ref_matmul_f32(int64_t M, int64_t N, int64_t K, const float *a, const float *b,
                        float *y) {
    double *acc = malloc((size_t)(N > 0 ? N : 1) * sizeof *acc);
    if (!acc) { /* still correct, only less exact: accumulate in the output */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                float s = 0.0f;
                for (int64_t k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
                y[i * N + j] = s;
            }
        return;
    }
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) acc[j] = 0.0;
        for (int64_t k = 0; k < K; k++) {
            double av = a[i * K + k];
            const float *br = b + k * N;
            for (int64_t j = 0; j < N; j++) acc[j] += av * br[j];
        }
        for (int64_t j = 0; j < N; j++) y[i * N + j] = (float)acc[j];
    }
    free(acc);
}

void oct_ref_matmul_i64(int64_t M, int64_t N, int64_t K, const int64_t *a, const int64_t *b,
                        int64_t *y) {
    for (int64_t i = 0; i < M; i++) {
        int64_t *yr = y + i * N;
        for (int64_t j = 0; j < N; j++) yr[j] = 0;
        for (int64_t k = 0; k < K; k++) {
            /* wrap around like the fixed-width integer arithmetic it models */
            uint64_t av = (uint64_t)a[i * K + k];
            const int64_t *br = b + k * N;
            for (int64_t j = 0; j < N; j++) yr[j] = (int64_t)((uint64_t)yr[j] + av * (uint64_t)br[j]);
        }
    }
}
