/* Reference kernels for the quantization operators: QuantizeLinear,
 * DequantizeLinear, DynamicQuantizeLinear, ConvInteger, QLinearConv,
 * MatMulInteger, QLinearMatMul, com.microsoft QLinearAdd / QLinearMul /
 * QLinearGlobalAveragePool / QLinearAveragePool, and Dropout.
 *
 * Integer work is exact: inputs minus zero points are products of int16
 * values accumulated in int32, as the ONNX specs define them. Where a result
 * goes back to 8 bits, the arithmetic is ONNX Runtime's (its CPU kernels are
 * the de-facto definition of the com.microsoft ops and of QLinearConv's
 * requantization): an int32 accumulator becomes float, is multiplied by one
 * float scale computed as (x_scale * w_scale) / y_scale, rounded half to
 * even and saturated (oct_q_requant). Every rounding goes through arith.h. */
#ifndef OCT_KERNELS_REF_REF_QUANT_H
#define OCT_KERNELS_REF_REF_QUANT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arith.h"
#include "core/tensor.h"
#include "kernels/ref/ref_nn.h"
#include "ops/op.h"

/* ---- element helpers ----------------------------------------------------- */

/* Range of an integer quantized dtype; 0 when dt is not one. */
static inline int oct_q_range(oct_dtype dt, int32_t *lo, int32_t *hi) {
    switch (dt) {
    case OCT_UINT8:
        *lo = 0;
        *hi = 255;
        return 1;
    case OCT_INT8:
        *lo = -128;
        *hi = 127;
        return 1;
    case OCT_UINT16:
        *lo = 0;
        *hi = 65535;
        return 1;
    case OCT_INT16:
        *lo = -32768;
        *hi = 32767;
        return 1;
    case OCT_INT32:
        *lo = INT32_MIN;
        *hi = INT32_MAX;
        return 1;
    default: *lo = *hi = 0; return 0;
    }
}

static inline int32_t oct_q_get(const void *p, oct_dtype dt, int64_t i) {
    switch (dt) {
    case OCT_UINT8: return ((const uint8_t *)p)[i];
    case OCT_INT8: return ((const int8_t *)p)[i];
    case OCT_UINT16: return ((const uint16_t *)p)[i];
    case OCT_INT16: return ((const int16_t *)p)[i];
    case OCT_INT32: return ((const int32_t *)p)[i];
    default: return 0;
    }
}

/* v must already lie in dt's range. */
static inline void oct_q_set(void *p, oct_dtype dt, int64_t i, int32_t v) {
    switch (dt) {
    case OCT_UINT8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case OCT_INT8: ((int8_t *)p)[i] = (int8_t)v; break;
    case OCT_UINT16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case OCT_INT16: ((int16_t *)p)[i] = (int16_t)v; break;
    case OCT_INT32: ((int32_t *)p)[i] = v; break;
    default: break;
    }
}

/* ONNX Runtime's MlasRequantizeOutput: float(acc) * scale in float, rounded
 * half to even, plus the zero point, saturated to [lo, hi]. */
static inline int32_t oct_q_requant(int32_t acc, float scale, int32_t zp, int32_t lo, int32_t hi) {
    float v = (float)acc * scale;
    return oct_sat_i32((double)oct_round_half_even(v) + zp, lo, hi);
}

/* oct_q_requant for 8-bit outputs (lo <= 0 <= hi within -128..255, |zp| <=
 * 255), returned as a float holding the integer result, in a form
 * compilers vectorize (no libm call). The same result for every acc and
 * scale: while |v| <= 2^22, oct_round_half_even_small rounds exactly as
 * oct_round_half_even (arith.h) and round(v) + zp is an integer below 2^23,
 * exact in float; beyond 2^22 both forms saturate to the same end (|round(v)
 * + zp| > 2^22 - 255 > 255), so clamping v to +-2^22 first changes nothing;
 * a NaN v gives 0 in both (oct_sat_i32). For fast kernels that must match
 * the reference bit for bit. */
static inline float oct_q_requant8(int32_t acc, float scale, float zp, float lo, float hi) {
    const float big = 4194304.0f; /* 2^22 */
    float v = (float)acc * scale;
    int nan = v != v;
    /* arith.h's branch-free clamp and select: a float ?: stops gcc's
     * vectorizer */
    float r = oct_round_half_even_small(oct_clamp_f32(v, -big, big)) + zp;
    return oct_sel_f32(nan, 0.0f, oct_clamp_f32(r, lo, hi));
}

/* QLinearConv's requantization scale of one output channel (the float that
 * oct_q_requant multiplies by): ONNX Runtime's order and precision,
 * (x_scale * w_scale) / y_scale in float. The scales come in as read from
 * their tensors (oct_get_f64); every QLinearConv kernel takes the scale from
 * here so that the fast ones round exactly as the reference does. */
static inline float oct_q_conv_scale(double x_scale, double w_scale, double y_scale) {
    return (float)x_scale * (float)w_scale / (float)y_scale;
}

/* ---- QuantizeLinear / DequantizeLinear ------------------------------------ */

/* Where the scale of each element comes from. x is viewed as [outer, axis_len,
 * inner]. Per tensor: n_scales == 1. Per axis: one scale per position along
 * the axis. Blocked (opset 21): block > 0, the scale tensor has x's shape
 * with ceil(axis_len / block) along the axis. */
typedef struct oct_qaxis {
    int64_t outer, axis_len, inner;
    int64_t block;    /* 0: per tensor or per axis */
    int64_t n_scales; /* elements in scale (and zero point) */
} oct_qaxis;

/* Index into the scale array of element (o, a, i). */
static inline int64_t oct_qaxis_index(const oct_qaxis *q, int64_t o, int64_t a, int64_t i) {
    if (q->n_scales == 1) return 0;
    if (!q->block) return a;
    int64_t nb = (q->axis_len + q->block - 1) / q->block;
    return (o * nb + a / q->block) * q->inner + i;
}

/* y = saturate(round_half_even(x / scale) + zp). x: float, float16,
 * bfloat16, double or int32; y: an integer dtype of oct_q_range. zp may be
 * NULL (0). */
oct_status oct_ref_quantize_linear(const oct_tensor *x, const float *scale, const int32_t *zp,
                                   const oct_qaxis *q, oct_tensor *y);
/* y = (x - zp) * scale in float, stored to y's float dtype. */
oct_status oct_ref_dequantize_linear(const oct_tensor *x, const float *scale, const int32_t *zp,
                                     const oct_qaxis *q, oct_tensor *y);
/* uint8 y, float scale, uint8 zero point from the range of x (float), as
 * ONNX Runtime computes them (all in float; scale 1 when x is all zero). */
void oct_ref_dynamic_quantize_linear(const float *x, int64_t n, uint8_t *y, float *scale,
                                     uint8_t *zero_point);

/* DynamicQuantizeLinear's scale from the range [mn, mx] of x (both taken
 * from 0, NaN skipped, so mn <= 0 <= mx), with the zero point in *zp: ONNX
 * Runtime's arithmetic, all in float, scale 1 when the range is empty. The
 * reference and the threaded kernel (backends/cpu/cpu_qlinear.c) both call
 * it, so they agree on every input. */
static inline float oct_dynq_params(float mn, float mx, int32_t *zp) {
    float s = mx == mn ? 1.0f : (mx - mn) / 255.0f;
    float zf = 0.0f - mn / s;
    if (zf < 0.0f) zf = 0.0f;
    if (zf > 255.0f) zf = 255.0f;
    *zp = oct_sat_i32(oct_round_half_even(zf), 0, 255);
    return s;
}
/* One DynamicQuantizeLinear code: oct_quantize_u8(x, s, zp) for every x
 * (NaN: code 0), branch-free so that loops over it vectorize. Clamping
 * x / s to [-zp, 255 - zp] before rounding gives the same integer as
 * rounding first (integer bounds), and then oct_round_half_even_small is
 * exact; a NaN becomes -zp, i.e. code 0, as oct_sat_i32 gives. */
static inline uint8_t oct_dynq_code(float x, float s, float zp) {
    float q = x / s;
    q = oct_sel_f32(q == q, q, -zp);
    return (uint8_t)(oct_round_half_even_small(oct_clamp_f32(q, -zp, 255.0f - zp)) + zp);
}

/* ---- ConvInteger / QLinearConv -------------------------------------------- */

/* Geometry: oct_conv_params from ref_nn.h (Layout NC<spatial>). */
oct_status oct_qconv_params_get(const oct_opctx *c, int x_index, int w_index, oct_conv_params *p);
/* acc[n, m, o...] = sum (x - x_zp) * (w - w_zp[m]) over the window, padding
 * contributing 0; x and w are uint8 or int8 tensors, w_zp has p->m entries.
 * Fails only on allocation. */
oct_status oct_ref_conv_integer(const oct_conv_params *p, const oct_tensor *x, int32_t x_zp,
                                const oct_tensor *w, const int32_t *w_zp, int32_t *acc);

/* ---- MatMulInteger / QLinearMatMul ---------------------------------------- */

/* numpy matmul geometry of A [..., M, K] and B [..., K, N] (1-D operands are
 * promoted and the added axis dropped from the output). */
typedef struct oct_qmatmul_params {
    int64_t m, n, k;
    int out_ndim;
    int64_t out_dims[OCT_MAX_DIMS];
    int batch_ndim;                  /* broadcast batch rank */
    int64_t batch[OCT_MAX_DIMS];     /* broadcast batch dims */
    int64_t a_bstride[OCT_MAX_DIMS]; /* batch strides in matrices, 0 = broadcast */
    int64_t b_bstride[OCT_MAX_DIMS];
    int64_t n_batch;
} oct_qmatmul_params;

oct_status oct_qmatmul_params_get(const oct_opctx *c, const oct_tensor *a, const oct_tensor *b,
                                  oct_qmatmul_params *p);
/* Offset (in matrices) of batch bi's A and B operands. */
void oct_qmatmul_batch_offsets(const oct_qmatmul_params *p, int64_t bi, int64_t *a_off,
                               int64_t *b_off);
/* y[M,N] = sum_k (a[m,k] - a_zp[m]) * (b[k,n] - b_zp[n]) for one matrix
 * pair; a, b uint8/int8 element arrays (of dtypes adt, bdt) at the given
 * element offsets. a_zp has M entries, b_zp N. Fails only on allocation. */
oct_status oct_ref_matmul_integer(int64_t M, int64_t N, int64_t K, const void *a, oct_dtype adt,
                                  int64_t a_off, const int32_t *a_zp, const void *b, oct_dtype bdt,
                                  int64_t b_off, const int32_t *b_zp, int32_t *y);

/* ---- com.microsoft QLinearAdd / QLinearMul -------------------------------- */

typedef enum oct_qbinary_op { OCT_QADD, OCT_QMUL } oct_qbinary_op;
typedef struct oct_qbinary_params {
    oct_qbinary_op op;
    oct_dtype dt; /* uint8 or int8, all three tensors */
    float a_scale, b_scale, c_scale;
    int32_t a_zp, b_zp, c_zp;
} oct_qbinary_params;
/* One QLinearAdd element in ONNX Runtime's (MLAS's) order, with x the
 * operand passed as MLAS's A and y the other (ref: qlinear_elementwise.c):
 *   fixed = c_zp - fma(rx, x_zp, ry * y_zp)   (oct_qadd_fixed)
 *   fy = fma(y, ry, fixed)                     (oct_qadd_fy)
 *   c = sat(round_half_even(fma(x, rx, fy)))   (oct_qadd_code)
 * with rx = x_scale / c_scale, ry = y_scale / c_scale. Shared by the
 * reference and the CPU kernel so that both round alike. */
static inline float oct_qadd_fixed(float rx, float zx, float ry, float zy, float zc) {
    return zc - fmaf(rx, zx, ry * zy);
}
static inline float oct_qadd_fy(int32_t y, float ry, float fixed) {
    return fmaf((float)y, ry, fixed);
}
static inline int32_t oct_qadd_code(int32_t x, float rx, float fy, int32_t lo, int32_t hi) {
    return oct_sat_i32(oct_round_half_even(fmaf((float)x, rx, fy)), lo, hi);
}
/* One QLinearMul element: the exact integer product (a - a_zp)(b - b_zp),
 * times ratio = a_scale * b_scale / c_scale, plus c_zp, in float. */
static inline int32_t oct_qmul_code(int32_t a, int32_t b, int32_t a_zp, int32_t b_zp, float ratio,
                                    float zc, int32_t lo, int32_t hi) {
    int32_t prod = (a - a_zp) * (b - b_zp);
    float v = (float)prod * ratio;
    v += zc; /* a separate statement: never contracted into an FMA */
    return oct_sat_i32(oct_round_half_even(v), lo, hi);
}

/* c = quantize(dequantize(a) op dequantize(b)), numpy broadcasting into c. */
void oct_ref_qlinear_binary(const oct_qbinary_params *p, const oct_tensor *a, const oct_tensor *b,
                            oct_tensor *c);

/* ---- com.microsoft QLinearGlobalAveragePool / QLinearAveragePool ---------- */

typedef struct oct_qpool_params {
    oct_dtype dt;      /* uint8 or int8 */
    int channels_last; /* x is [N, spatial..., C] */
    int64_t n, c;
    float x_scale, y_scale;
    int32_t x_zp, y_zp;
    int count_include_pad;
    oct_nn_window w; /* in = input spatial dims, out = output's */
} oct_qpool_params;

/* y[n, c] = mean over the spatial positions, through an exact int32 sum and
 * scale = x_scale / (y_scale * size) (ONNX Runtime's kernel). */
void oct_ref_qlinear_global_avgpool(const oct_qpool_params *p, const void *x, void *y);
/* Average pool of dequantized values, summed in float in window order and
 * quantized (ONNX Runtime's kernel). A window covering the whole unpadded
 * input is the global pool. */
void oct_ref_qlinear_avgpool(const oct_qpool_params *p, const void *x, void *y);

/* ---- Dropout (inference) -------------------------------------------------- */

/* y = x (y may be NULL); mask (may be NULL) all true: bool true, or 1 in a
 * numeric dtype (Dropout 7-9). */
void oct_ref_dropout_identity(const oct_tensor *x, oct_tensor *y, oct_tensor *mask);

#endif
