/* Staging buffers for the NN kernels: the arithmetic is written once, in
 * float or double, and tensors of other real dtypes are converted at the
 * edges (float16/bfloat16 through arith.h, as everywhere in octet). */
#include <stdlib.h>

#include "core/arith.h"
#include "kernels/ref/ref_nn.h"

int oct_nn_is_real(oct_dtype dt) {
    return dt == OCT_FLOAT || dt == OCT_DOUBLE || dt == OCT_FLOAT16 || dt == OCT_BFLOAT16;
}

double *oct_nn_load_f64(const oct_tensor *t) {
    int64_t n = oct_numel(t);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return NULL;
    switch (t->dtype) {
    case OCT_FLOAT: {
        const float *p = t->data;
        for (int64_t i = 0; i < n; i++) v[i] = p[i];
        break;
    }
    case OCT_DOUBLE: {
        const double *p = t->data;
        for (int64_t i = 0; i < n; i++) v[i] = p[i];
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++) v[i] = oct_get_f64(t, i);
        break;
    }
    return v;
}

float *oct_nn_load_f32(const oct_tensor *t) {
    int64_t n = oct_numel(t);
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return NULL;
    switch (t->dtype) {
    case OCT_FLOAT: {
        const float *p = t->data;
        for (int64_t i = 0; i < n; i++) v[i] = p[i];
        break;
    }
    case OCT_FLOAT16: {
        const uint16_t *p = t->data;
        for (int64_t i = 0; i < n; i++) v[i] = oct_f16_to_f32(p[i]);
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++) v[i] = (float)oct_get_f64(t, i);
        break;
    }
    return v;
}

void oct_nn_store_f64(oct_tensor *t, const double *v) {
    int64_t n = oct_numel(t);
    switch (t->dtype) {
    case OCT_FLOAT: {
        float *p = t->data;
        for (int64_t i = 0; i < n; i++) p[i] = (float)v[i];
        break;
    }
    case OCT_DOUBLE: {
        double *p = t->data;
        for (int64_t i = 0; i < n; i++) p[i] = v[i];
        break;
    }
    case OCT_FLOAT16: {
        /* Round to float first, as a float16 kernel computing in float would. */
        uint16_t *p = t->data;
        for (int64_t i = 0; i < n; i++) p[i] = oct_f32_to_f16((float)v[i]);
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++) oct_set_f64(t, i, v[i]);
        break;
    }
}

void oct_nn_store_f32(oct_tensor *t, const float *v) {
    int64_t n = oct_numel(t);
    switch (t->dtype) {
    case OCT_FLOAT: {
        float *p = t->data;
        for (int64_t i = 0; i < n; i++) p[i] = v[i];
        break;
    }
    case OCT_FLOAT16: {
        uint16_t *p = t->data;
        for (int64_t i = 0; i < n; i++) p[i] = oct_f32_to_f16(v[i]);
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++) oct_set_f64(t, i, v[i]);
        break;
    }
}
