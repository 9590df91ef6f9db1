#include "kernels/ref/ref_data.h"

void oct_ref_range(const oct_tensor *start, const oct_tensor *delta, oct_tensor *y) {
    int64_t n = oct_numel(y);
    switch (y->dtype) {
    case OCT_FLOAT: {
        float s = *(const float *)start->data, d = *(const float *)delta->data;
        float *o = (float *)y->data;
        for (int64_t i = 0; i < n; i++, s += d)
            o[i] = s;
        break;
    }
    case OCT_DOUBLE: {
        double s = *(const double *)start->data, d = *(const double *)delta->data;
        double *o = (double *)y->data;
        for (int64_t i = 0; i < n; i++, s += d)
            o[i] = s;
        break;
    }
    default: {
        /* Integer accumulation equals start + i * delta; unsigned math avoids
         * overflow UB past the last element. */
        uint64_t s = (uint64_t)oct_get_i64(start, 0), d = (uint64_t)oct_get_i64(delta, 0);
        for (int64_t i = 0; i < n; i++) {
            int64_t v = (int64_t)(s + (uint64_t)i * d);
            if (y->dtype == OCT_INT64)
                ((int64_t *)y->data)[i] = v;
            else if (y->dtype == OCT_INT32)
                ((int32_t *)y->data)[i] = (int32_t)v;
            else if (y->dtype == OCT_INT16)
                ((int16_t *)y->data)[i] = (int16_t)v;
        }
        break;
    }
    }
}
