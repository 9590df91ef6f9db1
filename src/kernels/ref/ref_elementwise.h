/* Reference kernels for element-wise, comparison, cast and reduction ops
 * (unary math and activations, broadcasting binary ops, Sum/Mean/Min/Max,
 * Where, Clip, Cast, Reduce*, ArgMax/ArgMin, CumSum).
 *
 * The op files (src/ops) validate inputs and turn attributes and value
 * inputs into plain parameters; these kernels compute. Output tensors arrive
 * allocated with their final shape. A kernel returns OCT_E_UNSUPPORTED for a
 * dtype it does not do (the op file reports it with the node's name).
 *
 * Element-wise work goes through one driver: the output is walked in rows of
 * its innermost (merged) dimension and a typed row function handles each
 * row with per-input element strides, so identical shapes become one flat
 * row and broadcasting a [C,1,1] bias becomes rows with stride 0. */
#ifndef OCT_KERNELS_REF_REF_ELEMENTWISE_H
#define OCT_KERNELS_REF_REF_ELEMENTWISE_H

#include <stdint.h>

#include "core/arith.h"
#include "core/tensor.h"

/* ---- broadcasting driver ------------------------------------------------ */

/* o[i] = f(a[i * sa], b[i * sb], c[i * sc]) for i < n; strides in elements;
 * unused operands are NULL. o is contiguous and may alias a (in place). */
typedef void (*oct_ew_row)(void *o, const void *a, int64_t sa, const void *b, int64_t sb,
                           const void *c, int64_t sc, int64_t n, const void *ctx);

/* Applies fn over out's shape, broadcasting n_in (1..3) inputs numpy-style
 * (each input's shape must broadcast to out's). */
void oct_ref_broadcast_apply(oct_tensor *out, int n_in, const oct_tensor *const *in, oct_ew_row fn,
                             const void *ctx);

/* Drops size-1 dims and merges neighbours that are contiguous in all n_ops
 * stride sets (strides in elements, 0 = broadcast). Returns the new rank. */
int oct_ref_merge_dims(int ndim, int64_t *dims, int n_ops, int64_t (*st)[OCT_MAX_DIMS]);

/* y = x broadcast to y's shape (same dtype). */
void oct_ref_broadcast_copy(const oct_tensor *x, oct_tensor *y);

/* Bulk conversions between any numeric dtype (bool included) and double or
 * int64, for n elements starting at element off with stride step.
 * Doubles stored into integer dtypes truncate toward zero, NaN gives 0,
 * values beyond int64 saturate, then wrap to the width (as a C cast via
 * int64 does on common hardware). int64 stored into narrower ints wraps;
 * uint64 travels through int64 bit for bit. bool stores v != 0. */
void oct_ref_load_f64(const void *base, oct_dtype dt, int64_t off, int64_t step, int64_t n,
                      double *dst);
void oct_ref_load_i64(const void *base, oct_dtype dt, int64_t off, int64_t step, int64_t n,
                      int64_t *dst);
void oct_ref_store_f64(void *base, oct_dtype dt, int64_t off, int64_t n, const double *src);
void oct_ref_store_i64(void *base, oct_dtype dt, int64_t off, int64_t n, const int64_t *src);
/* Smallest and largest value of an integer dtype (bool: 0, 1). */
void oct_ref_int_limits(oct_dtype dt, int64_t *lo, int64_t *hi);
int oct_ref_is_numeric(oct_dtype dt); /* float, integer or bool */

/* ---- unary ops ------------------------------------------------------------ */

/* clang-format off */
#define OCT_UNARY_OPS(X)                                                                        \
    X(ABS) X(ACOS) X(ACOSH) X(ASIN) X(ASINH) X(ATAN) X(ATANH) X(CEIL) X(COS) X(COSH) X(ERF)     \
    X(EXP) X(FLOOR) X(LOG) X(NEG) X(RECIPROCAL) X(ROUND) X(SIGN) X(SIN) X(SINH) X(SQRT) X(TAN)  \
    X(TANH) X(RELU) X(SIGMOID) X(SOFTPLUS) X(SOFTSIGN) X(CELU) X(ELU) X(SELU) X(LEAKYRELU)      \
    X(HARDSIGMOID) X(HARDSWISH) X(THRESHOLDEDRELU) X(MISH) X(GELU) X(GELU_TANH) X(SHRINK)       \
    X(ISNAN) X(ISINF) X(NOT)
/* clang-format on */

#define OCT_UNARY_ENUM(N) OCT_UN_##N,
typedef enum oct_unary_op { OCT_UNARY_OPS(OCT_UNARY_ENUM) OCT_UN_COUNT } oct_unary_op;
#undef OCT_UNARY_ENUM

/* Attribute values; which ones an op reads:
 * Celu/Elu/LeakyRelu/ThresholdedRelu: alpha; Selu: alpha, gamma;
 * HardSigmoid: alpha, beta; Shrink: lambd = alpha, bias = beta;
 * IsInf: detect_negative = neg, detect_positive = pos. */
typedef struct oct_unary_params {
    float alpha, beta, gamma;
    int neg, pos;
} oct_unary_params;

/* Whether the kernel does op on dtype, and the dtype it outputs. */
int oct_ref_unary_supports(oct_unary_op op, oct_dtype dt);
oct_dtype oct_ref_unary_out_dtype(oct_unary_op op, oct_dtype dt);
oct_status oct_ref_unary(oct_unary_op op, const oct_unary_params *p, const oct_tensor *x,
                         oct_tensor *y);

/* ---- binary ops (numpy broadcasting) -------------------------------------- */

typedef enum oct_binary_op {
    /* arithmetic, output dtype = input dtype */
    OCT_BIN_ADD,
    OCT_BIN_SUB,
    OCT_BIN_MUL,
    OCT_BIN_DIV,
    OCT_BIN_MOD,  /* Python sign rule: result has the divisor's sign */
    OCT_BIN_FMOD, /* C fmod / truncated remainder: result has the dividend's sign */
    OCT_BIN_POW,  /* base and exponent dtypes may differ; output = base dtype */
    OCT_BIN_PRELU,
    OCT_BIN_MIN,
    OCT_BIN_MAX,
    /* comparisons, bool out */
    OCT_BIN_EQUAL,
    OCT_BIN_GREATER,
    OCT_BIN_LESS,
    OCT_BIN_GREATER_EQUAL,
    OCT_BIN_LESS_EQUAL,
    /* logic, bool in and out */
    OCT_BIN_AND,
    OCT_BIN_OR,
    OCT_BIN_XOR
} oct_binary_op;

/* Row functions for one dtype, NULL when not supported. Integer division and
 * remainder by zero give 0 rather than trapping. */
oct_ew_row oct_ref_arith_row(oct_binary_op op, oct_dtype dt);
oct_ew_row oct_ref_compare_row(oct_binary_op op, oct_dtype dt);
oct_ew_row oct_ref_logical_row(oct_binary_op op);
int oct_ref_binary_supports(oct_binary_op op, oct_dtype a, oct_dtype b);
/* out (shape = broadcast of a and b) = a op b. */
oct_status oct_ref_binary(oct_binary_op op, const oct_tensor *a, const oct_tensor *b,
                          oct_tensor *out);

/* Sum (OCT_BIN_ADD), Min, Max of n inputs, broadcasting; mean = 1 divides
 * the sum by n (Mean). */
oct_status oct_ref_variadic(oct_binary_op op, int mean, int n, const oct_tensor *const *in,
                            oct_tensor *out);

/* out = cond ? x : y, broadcasting the three; cond is bool. */
oct_status oct_ref_where(const oct_tensor *cond, const oct_tensor *x, const oct_tensor *y,
                         oct_tensor *out);

/* y = min(max(x, lo), hi). lo/hi: scalars of x's dtype, NULL for no bound
 * (Clip 11+). */
oct_status oct_ref_clip(const oct_tensor *x, const oct_tensor *lo, const oct_tensor *hi,
                        oct_tensor *y);
/* Clip before opset 11: float bounds from attributes. */
oct_status oct_ref_clip_f(const oct_tensor *x, double lo, double hi, oct_tensor *y);

/* ---- cast ----------------------------------------------------------------- */

int oct_ref_cast_supports(oct_dtype from, oct_dtype to);
/* y (same shape, its own dtype) = x converted. */
oct_status oct_ref_cast(const oct_tensor *x, oct_tensor *y);

/* ---- reductions ----------------------------------------------------------- */

typedef enum oct_reduce_op {
    OCT_RED_SUM,
    OCT_RED_MEAN,
    OCT_RED_MAX,
    OCT_RED_MIN,
    OCT_RED_PROD,
    OCT_RED_L1,
    OCT_RED_L2,
    OCT_RED_LOG_SUM,
    OCT_RED_LOG_SUM_EXP,
    OCT_RED_SUM_SQUARE
} oct_reduce_op;

int oct_ref_reduce_supports(oct_reduce_op op, oct_dtype dt);
/* Reduces x over the axes with mask[axis] != 0 into y, whose elements are
 * x's kept coordinates in row-major order (keepdims does not matter).
 * Empty reductions give the identity: 0 for sums, 1 for Prod, -inf/lowest
 * for Max, +inf/highest for Min, -inf for LogSum(Exp), NaN for a float Mean.
 * Fails only on allocation (OCT_E_NOMEM) or an unsupported dtype. */
oct_status oct_ref_reduce(oct_reduce_op op, const oct_tensor *x, const unsigned char *mask,
                          oct_tensor *y);

/* y (int64) = index of the max (is_max) or min along axis; ties give the
 * first index, or the last with select_last. y's elements are x's other
 * coordinates in row-major order. */
oct_status oct_ref_argminmax(const oct_tensor *x, int axis, int is_max, int select_last,
                             oct_tensor *y);

/* y = running sum of x along axis. */
oct_status oct_ref_cumsum(const oct_tensor *x, int axis, int exclusive, int reverse, oct_tensor *y);

/* ---- typed row generation (kernel-internal) ------------------------------- */

/* X(OP, dtype, suffix, storage T, compute C, kind, LOAD, STORE): kind F
 * computes in float/double, I in int64, U in uint64. Half types compute in
 * float. STORE(T, v) converts a compute value back to storage. */
#define OCT_EW_LD(v) (v)
#define OCT_EW_ST(T, v) ((T)(v))
#define OCT_EW_LD_F16(v) oct_f16_to_f32(v)
#define OCT_EW_ST_F16(T, v) oct_f32_to_f16(v)
#define OCT_EW_LD_BF16(v) oct_bf16_to_f32(v)
#define OCT_EW_ST_BF16(T, v) oct_f32_to_bf16(v)

#define OCT_EW_FLOAT_TYPES(X, OP)                                                                  \
    X(OP, OCT_FLOAT, f32, float, float, F, OCT_EW_LD, OCT_EW_ST)                                   \
    X(OP, OCT_DOUBLE, f64, double, double, F, OCT_EW_LD, OCT_EW_ST)                                \
    X(OP, OCT_FLOAT16, f16, uint16_t, float, F, OCT_EW_LD_F16, OCT_EW_ST_F16)                      \
    X(OP, OCT_BFLOAT16, bf16, uint16_t, float, F, OCT_EW_LD_BF16, OCT_EW_ST_BF16)
#define OCT_EW_INT_TYPES(X, OP)                                                                    \
    X(OP, OCT_INT8, i8, int8_t, int64_t, I, OCT_EW_LD, OCT_EW_ST)                                  \
    X(OP, OCT_INT16, i16, int16_t, int64_t, I, OCT_EW_LD, OCT_EW_ST)                               \
    X(OP, OCT_INT32, i32, int32_t, int64_t, I, OCT_EW_LD, OCT_EW_ST)                               \
    X(OP, OCT_INT64, i64, int64_t, int64_t, I, OCT_EW_LD, OCT_EW_ST)                               \
    X(OP, OCT_UINT8, u8, uint8_t, uint64_t, U, OCT_EW_LD, OCT_EW_ST)                               \
    X(OP, OCT_UINT16, u16, uint16_t, uint64_t, U, OCT_EW_LD, OCT_EW_ST)                            \
    X(OP, OCT_UINT32, u32, uint32_t, uint64_t, U, OCT_EW_LD, OCT_EW_ST)                            \
    X(OP, OCT_UINT64, u64, uint64_t, uint64_t, U, OCT_EW_LD, OCT_EW_ST)
#define OCT_EW_NUM_TYPES(X, OP) OCT_EW_FLOAT_TYPES(X, OP) OCT_EW_INT_TYPES(X, OP)
#define OCT_EW_BOOL_TYPE(X, OP) X(OP, OCT_BOOL, b8, uint8_t, uint64_t, U, OCT_EW_LD, OCT_EW_ST)

/* A row function NAME for two operands of storage T, output TO:
 * o[i] = STO(TO, EXPR(x, y)) with x, y loaded into compute type C. The
 * common stride patterns get their own loops so compilers vectorise them. */
#define OCT_EW_ROW2(NAME, T, C, LD, TO, STO, EXPR)                                                 \
    static void NAME(void *po, const void *pa, int64_t sa, const void *pb, int64_t sb,             \
                     const void *pc, int64_t sc, int64_t n, const void *ctx) {                     \
        const T *a = (const T *)pa;                                                                \
        const T *b = (const T *)pb;                                                                \
        TO *o = (TO *)po;                                                                          \
        (void)pc, (void)sc, (void)ctx;                                                             \
        if (sa == 1 && sb == 1) {                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                      \
                C x = LD(a[i]), y = LD(b[i]);                                                      \
                o[i] = STO(TO, EXPR(x, y));                                                        \
            }                                                                                      \
        } else if (sb == 0) {                                                                      \
            C y = LD(b[0]);                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                      \
                C x = LD(a[i * sa]);                                                               \
                o[i] = STO(TO, EXPR(x, y));                                                        \
            }                                                                                      \
        } else if (sa == 0) {                                                                      \
            C x = LD(a[0]);                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                      \
                C y = LD(b[i * sb]);                                                               \
                o[i] = STO(TO, EXPR(x, y));                                                        \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) {                                                      \
                C x = LD(a[i * sa]), y = LD(b[i * sb]);                                            \
                o[i] = STO(TO, EXPR(x, y));                                                        \
            }                                                                                      \
        }                                                                                          \
    }

#endif
