/* Reading model outputs of any numeric type: one value, the count, the top-k. */
#include <math.h>
#include <string.h>

#include "core/arith.h"
#include "eval/eval_internal.h"

double oct_eval_view_get(const oct_tensor_view *t, int64_t i) {
    switch (t->dtype) {
    case OCT_FLOAT: return ((const float *)t->data)[i];
    case OCT_DOUBLE: return ((const double *)t->data)[i];
    case OCT_FLOAT16: return oct_f16_to_f32(((const uint16_t *)t->data)[i]);
    case OCT_BFLOAT16: return oct_bf16_to_f32(((const uint16_t *)t->data)[i]);
    case OCT_INT64: return (double)((const int64_t *)t->data)[i];
    case OCT_INT32: return ((const int32_t *)t->data)[i];
    case OCT_INT8: return ((const int8_t *)t->data)[i];
    case OCT_UINT8:
    case OCT_BOOL: return ((const uint8_t *)t->data)[i];
    default: return NAN;
    }
}

int64_t oct_eval_numel(const oct_tensor_view *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->dims[i];
    return n;
}

void oct_eval_top_k(const oct_tensor_view *t, int64_t n, int k, int64_t *best) {
    for (int j = 0; j < k; j++)
        best[j] = -1;
    for (int64_t i = 0; i < n; i++) {
        double v = oct_eval_view_get(t, i);
        for (int j = 0; j < k; j++)
            if (best[j] < 0 || v > oct_eval_view_get(t, best[j])) {
                memmove(best + j + 1, best + j, sizeof(int64_t) * (size_t)(k - 1 - j));
                best[j] = i;
                break;
            }
    }
}
