/* Integer matrix product (MatMulInteger, QLinearMatMul): operands minus
 * their zero points as int16, products accumulated exactly in int32. */
#include <stdlib.h>

#include "kernels/ref/ref_quant.h"

oct_status oct_ref_matmul_integer(int64_t M, int64_t N, int64_t K, const void *a, oct_dtype adt,
                                  int64_t a_off, const int32_t *a_zp, const void *b, oct_dtype bdt,
                                  int64_t b_off, const int32_t *b_zp, int32_t *y) {
    int16_t *aq = malloc((size_t)(M * K) * sizeof *aq + 1);
    int16_t *bq = malloc((size_t)(K * N) * sizeof *bq + 1);
    if (!aq || !bq) {
        free(aq);
        free(bq);
        return OCT_E_NOMEM;
    }
    for (int64_t m = 0; m < M; m++)
        for (int64_t k = 0; k < K; k++)
            aq[m * K + k] = (int16_t)(oct_q_get(a, adt, a_off + m * K + k) - a_zp[m]);
    for (int64_t k = 0; k < K; k++)
        for (int64_t n = 0; n < N; n++)
            bq[k * N + n] = (int16_t)(oct_q_get(b, bdt, b_off + k * N + n) - b_zp[n]);
    /* sums wrap modulo 2^32 rather than overflow (K > 33000 only) */
    for (int64_t m = 0; m < M; m++) {
        uint32_t *ym = (uint32_t *)(y + m * N);
        for (int64_t n = 0; n < N; n++)
            ym[n] = 0;
        for (int64_t k = 0; k < K; k++) {
            int32_t av = aq[m * K + k];
            const int16_t *bk = bq + k * N;
            for (int64_t n = 0; n < N; n++)
                ym[n] += (uint32_t)(av * bk[n]);
        }
    }
    free(aq);
    free(bq);
    return OCT_OK;
}
