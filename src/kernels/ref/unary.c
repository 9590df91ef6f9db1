/* Unary math and activation kernels, one table for all of them.
 *
 * Each float op is one expression in v (the input), T (float or double) and
 * p (the attributes); <tgmath.h> makes exp/tanh/... pick expf for float and
 * exp for double, so one expression yields both a float loop and a double
 * loop. Half types go through the float loop in chunks. Integer inputs are
 * only allowed where ONNX keeps the integer type (Abs, Neg, Sign, Relu). */
#include <tgmath.h>

#include "kernels/ref/ref_elementwise.h"

/* Rounding lives in arith.h; the double path uses the same IEEE mode. */
#define ROUND_EVEN(v) _Generic((v), float : oct_round_half_even, default : nearbyint)(v)

#define SOFTPLUS(v) ((v) > 0 ? (v) + log1p(exp(-(v))) : log1p(exp(v)))

/* clang-format off */
#define UNARY_FLOAT_OPS(X)                                                                  \
    X(ABS, fabs(v))                                                                         \
    X(ACOS, acos(v))                                                                        \
    X(ACOSH, acosh(v))                                                                      \
    X(ASIN, asin(v))                                                                        \
    X(ASINH, asinh(v))                                                                      \
    X(ATAN, atan(v))                                                                        \
    X(ATANH, atanh(v))                                                                      \
    X(CEIL, ceil(v))                                                                        \
    X(COS, cos(v))                                                                          \
    X(COSH, cosh(v))                                                                        \
    X(ERF, erf(v))                                                                          \
    X(EXP, exp(v))                                                                          \
    X(FLOOR, floor(v))                                                                      \
    X(LOG, log(v))                                                                          \
    X(NEG, -v)                                                                              \
    X(RECIPROCAL, (T)1 / v)                                                                 \
    X(ROUND, ROUND_EVEN(v))                                                                 \
    X(SIGN, v != v ? v : (T)((v > 0) - (v < 0)))                                            \
    X(SIN, sin(v))                                                                          \
    X(SINH, sinh(v))                                                                        \
    X(SQRT, sqrt(v))                                                                        \
    X(TAN, tan(v))                                                                          \
    X(TANH, tanh(v))                                                                        \
    X(RELU, v < 0 ? (T)0 : v)                                                               \
    X(SIGMOID, (T)1 / ((T)1 + exp(-v)))                                                     \
    X(SOFTPLUS, SOFTPLUS(v))                                                                \
    X(SOFTSIGN, v / ((T)1 + fabs(v)))                                                       \
    X(CELU, v > 0 ? v : (T)p->alpha * expm1(v / (T)p->alpha))                              \
    X(ELU, v < 0 ? (T)p->alpha * expm1(v) : v)                                              \
    X(SELU, v > 0 ? (T)p->gamma * v : (T)p->gamma * ((T)p->alpha * exp(v) - (T)p->alpha))  \
    X(LEAKYRELU, v < 0 ? (T)p->alpha * v : v)                                               \
    X(HARDSIGMOID, fmax((T)0, fmin((T)1, (T)p->alpha * v + (T)p->beta)))                    \
    X(HARDSWISH, v * fmax((T)0, fmin((T)1, v * (T)(1.0 / 6.0) + (T)0.5)))                   \
    X(THRESHOLDEDRELU, v > (T)p->alpha ? v : (T)0)                                          \
    X(MISH, v * tanh(SOFTPLUS(v)))                                                          \
    X(GELU, (T)0.5 * v * ((T)1 + erf(v * (T)0.70710678118654752440)))                       \
    X(GELU_TANH,                                                                            \
      (T)0.5 * v *                                                                          \
          ((T)1 + tanh((T)0.79788456080286535588 * (v + (T)0.044715 * v * v * v))))         \
    X(SHRINK, v < -(T)p->alpha ? v + (T)p->beta : v > (T)p->alpha ? v - (T)p->beta : (T)0)
/* clang-format on */

typedef void (*f32_fn)(const float *x, float *y, int64_t n, const oct_unary_params *p);
typedef void (*f64_fn)(const double *x, double *y, int64_t n, const oct_unary_params *p);

#define DEF_LOOPS(NAME, EXPR)                                                                      \
    static void NAME##_f32(const float *x, float *y, int64_t n, const oct_unary_params *p) {       \
        typedef float T;                                                                           \
        (void)p;                                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T v = x[i];                                                                      \
            y[i] = (T)(EXPR);                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void NAME##_f64(const double *x, double *y, int64_t n, const oct_unary_params *p) {     \
        typedef double T;                                                                          \
        (void)p;                                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T v = x[i];                                                                      \
            y[i] = (T)(EXPR);                                                                      \
        }                                                                                          \
    }
UNARY_FLOAT_OPS(DEF_LOOPS)

#define TABLE_F32(NAME, EXPR) [OCT_UN_##NAME] = NAME##_f32,
#define TABLE_F64(NAME, EXPR) [OCT_UN_##NAME] = NAME##_f64,
static const f32_fn table_f32[OCT_UN_COUNT] = {UNARY_FLOAT_OPS(TABLE_F32)};
static const f64_fn table_f64[OCT_UN_COUNT] = {UNARY_FLOAT_OPS(TABLE_F64)};

static int int_op(oct_unary_op op) {
    return op == OCT_UN_ABS || op == OCT_UN_NEG || op == OCT_UN_SIGN || op == OCT_UN_RELU;
}

int oct_ref_unary_supports(oct_unary_op op, oct_dtype dt) {
    if ((unsigned)op >= OCT_UN_COUNT) return 0;
    if (op == OCT_UN_NOT) return dt == OCT_BOOL;
    if (op == OCT_UN_ISNAN || op == OCT_UN_ISINF) return oct_dtype_is_float(dt);
    if (oct_dtype_is_float(dt)) return 1;
    return oct_dtype_is_int(dt) && int_op(op);
}

oct_dtype oct_ref_unary_out_dtype(oct_unary_op op, oct_dtype dt) {
    return op == OCT_UN_ISNAN || op == OCT_UN_ISINF ? OCT_BOOL : dt;
}

/* Half types: convert a chunk to float, run the float loop, convert back. */
static void unary_half(f32_fn f, const oct_unary_params *p, const uint16_t *x, uint16_t *y,
                       int64_t n, int bf16) {
    float buf[256];
    for (int64_t s = 0; s < n; s += 256) {
        int64_t k = n - s < 256 ? n - s : 256;
        for (int64_t i = 0; i < k; i++)
            buf[i] = bf16 ? oct_bf16_to_f32(x[s + i]) : oct_f16_to_f32(x[s + i]);
        f(buf, buf, k, p);
        for (int64_t i = 0; i < k; i++)
            y[s + i] = bf16 ? oct_f32_to_bf16(buf[i]) : oct_f32_to_f16(buf[i]);
    }
}

/* Abs/Neg/Sign/Relu on integers, in int64 (two's complement wrap-around,
 * computed unsigned so INT64_MIN does not overflow). */
static int64_t int_apply(oct_unary_op op, int64_t v, int is_unsigned) {
    uint64_t u = (uint64_t)v;
    switch (op) {
    case OCT_UN_ABS: return is_unsigned || v >= 0 ? v : (int64_t)(0 - u);
    case OCT_UN_NEG: return (int64_t)(0 - u);
    case OCT_UN_SIGN: return is_unsigned ? v != 0 : (v > 0) - (v < 0);
    case OCT_UN_RELU: return is_unsigned || v > 0 ? v : 0;
    default: return v;
    }
}

static void unary_int(oct_unary_op op, const oct_tensor *x, oct_tensor *y, int64_t n) {
    int64_t buf[256];
    int is_unsigned = x->dtype == OCT_UINT8 || x->dtype == OCT_UINT16 || x->dtype == OCT_UINT32 ||
                      x->dtype == OCT_UINT64;
    for (int64_t s = 0; s < n; s += 256) {
        int64_t k = n - s < 256 ? n - s : 256;
        oct_ref_load_i64(x->data, x->dtype, s, 1, k, buf);
        for (int64_t i = 0; i < k; i++)
            buf[i] = int_apply(op, buf[i], is_unsigned);
        oct_ref_store_i64(y->data, y->dtype, s, k, buf);
    }
}

/* IsNaN / IsInf: any float dtype to bool, through double (exact). */
static void classify(oct_unary_op op, const oct_unary_params *p, const oct_tensor *x, oct_tensor *y,
                     int64_t n) {
    double buf[256];
    uint8_t *o = (uint8_t *)y->data;
    for (int64_t s = 0; s < n; s += 256) {
        int64_t k = n - s < 256 ? n - s : 256;
        oct_ref_load_f64(x->data, x->dtype, s, 1, k, buf);
        for (int64_t i = 0; i < k; i++) {
            double v = buf[i];
            if (op == OCT_UN_ISNAN)
                o[s + i] = v != v;
            else
                o[s + i] = (v == INFINITY && p->pos) || (v == -INFINITY && p->neg);
        }
    }
}

oct_status oct_ref_unary(oct_unary_op op, const oct_unary_params *p, const oct_tensor *x,
                         oct_tensor *y) {
    static const oct_unary_params defaults = {1.0f, 0.0f, 1.0f, 1, 1};
    if (!oct_ref_unary_supports(op, x->dtype)) return OCT_E_UNSUPPORTED;
    if (!p) p = &defaults;
    int64_t n = oct_numel(x);
    if (op == OCT_UN_NOT) {
        const uint8_t *a = (const uint8_t *)x->data;
        uint8_t *o = (uint8_t *)y->data;
        for (int64_t i = 0; i < n; i++)
            o[i] = !a[i];
        return OCT_OK;
    }
    if (op == OCT_UN_ISNAN || op == OCT_UN_ISINF) {
        classify(op, p, x, y, n);
        return OCT_OK;
    }
    switch (x->dtype) {
    case OCT_FLOAT: table_f32[op]((const float *)x->data, (float *)y->data, n, p); break;
    case OCT_DOUBLE: table_f64[op]((const double *)x->data, (double *)y->data, n, p); break;
    case OCT_FLOAT16:
    case OCT_BFLOAT16:
        unary_half(table_f32[op], p, (const uint16_t *)x->data, (uint16_t *)y->data, n,
                   x->dtype == OCT_BFLOAT16);
        break;
    default: unary_int(op, x, y, n); break;
    }
    return OCT_OK;
}
