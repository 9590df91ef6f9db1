/* QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear. */
#include <math.h>

#include "kernels/ref/ref_quant.h"

/* Element i of a real or int32 tensor as float (int32 converts as a C cast,
 * as ONNX Runtime's int32 QuantizeLinear does). */
static float load_real(const oct_tensor *t, int64_t i) {
    switch (t->dtype) {
    case OCT_FLOAT: return ((const float *)t->data)[i];
    case OCT_DOUBLE: return (float)((const double *)t->data)[i];
    case OCT_FLOAT16: return oct_f16_to_f32(((const uint16_t *)t->data)[i]);
    case OCT_BFLOAT16: return oct_bf16_to_f32(((const uint16_t *)t->data)[i]);
    case OCT_INT32: return (float)((const int32_t *)t->data)[i];
    default: return 0.0f;
    }
}

static void store_real(oct_tensor *t, int64_t i, float v) {
    switch (t->dtype) {
    case OCT_FLOAT: ((float *)t->data)[i] = v; break;
    case OCT_DOUBLE: ((double *)t->data)[i] = v; break;
    case OCT_FLOAT16: ((uint16_t *)t->data)[i] = oct_f32_to_f16(v); break;
    case OCT_BFLOAT16: ((uint16_t *)t->data)[i] = oct_f32_to_bf16(v); break;
    default: break;
    }
}

oct_status oct_ref_quantize_linear(const oct_tensor *x, const float *scale, const int32_t *zp,
                                   const oct_qaxis *q, oct_tensor *y) {
    int32_t lo, hi;
    if (!oct_q_range(y->dtype, &lo, &hi)) return OCT_E_UNSUPPORTED;
    if (x->dtype != OCT_FLOAT && x->dtype != OCT_FLOAT16 && x->dtype != OCT_BFLOAT16 &&
        x->dtype != OCT_DOUBLE && x->dtype != OCT_INT32)
        return OCT_E_UNSUPPORTED;
    if (q->n_scales == 1 && x->dtype == OCT_FLOAT && (y->dtype == OCT_INT8 || y->dtype == OCT_UINT8)) {
        /* per tensor, float to 8 bits (Q/DQ models quantize every activation
         * this way): clamp to the codes, then round, the same numbers as
         * oct_quantize (arith.h says why) in a loop that vectorizes */
        const float *xf = x->data;
        float s = scale[0], z = zp ? (float)zp[0] : 0.0f, l = (float)lo - z, h = (float)hi - z;
        int64_t n = q->outer * q->axis_len * q->inner;
        /* the output pointer in a local: a store through a char type may
         * alias y itself, which would stop the loop from vectorizing */
        if (y->dtype == OCT_INT8) {
            int8_t *yo = y->data;
            for (int64_t i = 0; i < n; i++) yo[i] = (int8_t)(oct_fake_quant_code(xf[i] / s, l, h, z) + z);
        } else {
            uint8_t *yo = y->data;
            for (int64_t i = 0; i < n; i++) yo[i] = (uint8_t)(oct_fake_quant_code(xf[i] / s, l, h, z) + z);
        }
        return OCT_OK;
    }
    int64_t e = 0;
    for (int64_t o = 0; o < q->outer; o++)
        for (int64_t a = 0; a < q->axis_len; a++)
            for (int64_t i = 0; i < q->inner; i++, e++) {
                int64_t s = oct_qaxis_index(q, o, a, i);
                int32_t v = oct_quantize(load_real(x, e), scale[s], zp ? zp[s] : 0, lo, hi);
                oct_q_set(y->data, y->dtype, e, v);
            }
    return OCT_OK;
}

oct_status oct_ref_dequantize_linear(const oct_tensor *x, const float *scale, const int32_t *zp,
                                     const oct_qaxis *q, oct_tensor *y) {
    int32_t lo, hi;
    if (!oct_q_range(x->dtype, &lo, &hi)) return OCT_E_UNSUPPORTED;
    if (!oct_nn_is_real(y->dtype)) return OCT_E_UNSUPPORTED;
    if (q->n_scales == 1 && y->dtype == OCT_FLOAT && (x->dtype == OCT_INT8 || x->dtype == OCT_UINT8)) {
        float s = scale[0], *yf = y->data;
        int32_t z = zp ? zp[0] : 0;
        int64_t n = q->outer * q->axis_len * q->inner;
        const void *xd = x->data;
        if (x->dtype == OCT_INT8)
            for (int64_t i = 0; i < n; i++) yf[i] = (float)(((const int8_t *)xd)[i] - z) * s;
        else
            for (int64_t i = 0; i < n; i++) yf[i] = (float)(((const uint8_t *)xd)[i] - z) * s;
        return OCT_OK;
    }
    int64_t e = 0;
    for (int64_t o = 0; o < q->outer; o++)
        for (int64_t a = 0; a < q->axis_len; a++)
            for (int64_t i = 0; i < q->inner; i++, e++) {
                int64_t s = oct_qaxis_index(q, o, a, i);
                /* int64: an int32 input minus a zero point cannot overflow */
                int64_t d = (int64_t)oct_q_get(x->data, x->dtype, e) - (zp ? zp[s] : 0);
                store_real(y, e, (float)d * scale[s]);
            }
    return OCT_OK;
}

void oct_ref_dynamic_quantize_linear(const float *x, int64_t n, uint8_t *y, float *scale,
                                     uint8_t *zero_point) {
    /* The range always includes 0, so 0 is exactly representable. */
    float mn = 0.0f, mx = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
    }
    int32_t zp;
    float s = oct_dynq_params(mn, mx, &zp), zf = (float)zp;
    for (int64_t i = 0; i < n; i++)
        y[i] = oct_dynq_code(x[i], s, zf);
    *scale = s;
    *zero_point = (uint8_t)zp;
}
