/* Broadcasting arithmetic: Add Sub Mul Div Mod Pow PRelu Min Max, and the
 * dispatcher for every binary op (comparisons and logic have their own
 * row tables in compare.c and logical.c).
 *
 * Integer arithmetic is done in 64 bits and wraps like two's complement
 * hardware (through uint64_t, so signed overflow is never undefined); the
 * result is truncated to the storage width. Division and remainder by zero
 * give 0 instead of trapping. */
#include <math.h>

#include "kernels/ref/ref_elementwise.h"

static inline int64_t div_i64(int64_t x, int64_t y) {
    if (y == 0) return 0;
    if (y == -1) return (int64_t)(0 - (uint64_t)x); /* INT64_MIN / -1 wraps */
    return x / y;
}
static inline int64_t rem_i64(int64_t x, int64_t y) { return y == 0 || y == -1 ? 0 : x % y; }
/* Python's %: the result takes the divisor's sign. */
static inline int64_t pymod_i64(int64_t x, int64_t y) {
    int64_t r = rem_i64(x, y);
    return r != 0 && ((r < 0) != (y < 0)) ? r + y : r;
}
static inline double pymod_f64(double x, double y) {
    double r = fmod(x, y);
    return r != 0 && ((r < 0) != (y < 0)) ? r + y : r;
}
#define WADD(x, y) ((int64_t)((uint64_t)(x) + (uint64_t)(y)))
#define WSUB(x, y) ((int64_t)((uint64_t)(x) - (uint64_t)(y)))
#define WMUL(x, y) ((int64_t)((uint64_t)(x) * (uint64_t)(y)))

#define add_F(x, y) ((x) + (y))
#define add_I(x, y) WADD(x, y)
#define add_U(x, y) ((x) + (y))
#define sub_F(x, y) ((x) - (y))
#define sub_I(x, y) WSUB(x, y)
#define sub_U(x, y) ((x) - (y))
#define mul_F(x, y) ((x) * (y))
#define mul_I(x, y) WMUL(x, y)
#define mul_U(x, y) ((x) * (y))
#define div_F(x, y) ((x) / (y))
#define div_I(x, y) div_i64(x, y)
#define div_U(x, y) ((y) ? (x) / (y) : 0)
#define mod_F(x, y) pymod_f64(x, y)
#define mod_I(x, y) pymod_i64(x, y)
#define mod_U(x, y) ((y) ? (x) % (y) : 0)
#define fmod_F(x, y) fmod(x, y)
#define fmod_I(x, y) rem_i64(x, y)
#define fmod_U(x, y) ((y) ? (x) % (y) : 0)
#define prelu_F(x, y) ((x) < 0 ? (x) * (y) : (x))
#define prelu_I(x, y) ((x) < 0 ? WMUL(x, y) : (x))
#define prelu_U(x, y) ((void)(y), (x))
/* Min/Max propagate NaN (as numpy's minimum/maximum do). */
#define max_F(x, y) ((x) != (x) || (x) > (y) ? (x) : (y))
#define max_I(x, y) ((x) > (y) ? (x) : (y))
#define max_U(x, y) ((x) > (y) ? (x) : (y))
#define min_F(x, y) ((x) != (x) || (x) < (y) ? (x) : (y))
#define min_I(x, y) ((x) < (y) ? (x) : (y))
#define min_U(x, y) ((x) < (y) ? (x) : (y))

#define GEN(OP, DT, SFX, T, C, K, LD, ST) OCT_EW_ROW2(r_##OP##_##SFX, T, C, LD, T, ST, OP##_##K)
#define CASE(OP, DT, SFX, T, C, K, LD, ST)                                                         \
    case DT:                                                                                       \
        return r_##OP##_##SFX;
#define ARITH_OPS(X) X(add) X(sub) X(mul) X(div) X(mod) X(fmod) X(prelu) X(max) X(min)
#define GEN_ALL(OP) OCT_EW_NUM_TYPES(GEN, OP)
ARITH_OPS(GEN_ALL)
#define LOOKUP(OP)                                                                                 \
    static oct_ew_row OP##_row(oct_dtype dt) {                                                     \
        switch (dt) {                                                                              \
            OCT_EW_NUM_TYPES(CASE, OP)                                                             \
        default: return NULL;                                                                      \
        }                                                                                          \
    }
ARITH_OPS(LOOKUP)

oct_ew_row oct_ref_arith_row(oct_binary_op op, oct_dtype dt) {
    switch (op) {
    case OCT_BIN_ADD: return add_row(dt);
    case OCT_BIN_SUB: return sub_row(dt);
    case OCT_BIN_MUL: return mul_row(dt);
    case OCT_BIN_DIV: return div_row(dt);
    case OCT_BIN_MOD: return mod_row(dt);
    case OCT_BIN_FMOD: return fmod_row(dt);
    case OCT_BIN_PRELU: return prelu_row(dt);
    case OCT_BIN_MAX: return max_row(dt);
    case OCT_BIN_MIN: return min_row(dt);
    default: return NULL;
    }
}

/* ---- Pow ---------------------------------------------------------------- */

#define powf_F(x, y) powf(x, y)
#define pow_F(x, y) pow(x, y)
OCT_EW_ROW2(pow_f32, float, float, OCT_EW_LD, float, OCT_EW_ST, powf_F)
OCT_EW_ROW2(pow_f64, double, double, OCT_EW_LD, double, OCT_EW_ST, pow_F)
OCT_EW_ROW2(pow_f16, uint16_t, float, OCT_EW_LD_F16, uint16_t, OCT_EW_ST_F16, powf_F)
OCT_EW_ROW2(pow_bf16, uint16_t, float, OCT_EW_LD_BF16, uint16_t, OCT_EW_ST_BF16, powf_F)

typedef struct pow_ctx {
    oct_dtype base, exp;
} pow_ctx;

/* Integer power by squaring, wrapping like the other integer ops; negative
 * exponents truncate 1/x^k toward zero as ONNX Runtime's pow-then-cast does. */
static int64_t ipow(int64_t x, int64_t e) {
    if (e < 0) return x == 1 ? 1 : x == -1 ? (e & 1 ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)x;
    while (e) {
        if (e & 1) r *= b;
        b *= b;
        e >>= 1;
    }
    return (int64_t)r;
}

/* Mixed dtypes: chunks through double (or int64 when both are integers). */
static void pow_mixed(void *po, const void *pa, int64_t sa, const void *pb, int64_t sb,
                      const void *pc, int64_t sc, int64_t n, const void *ctx) {
    const pow_ctx *k = (const pow_ctx *)ctx;
    int ints = !oct_dtype_is_float(k->base) && !oct_dtype_is_float(k->exp);
    size_t ea = oct_dtype_size(k->base), eb = oct_dtype_size(k->exp);
    (void)pc, (void)sc;
    for (int64_t s = 0; s < n; s += 256) {
        int64_t m = n - s < 256 ? n - s : 256;
        const char *a = (const char *)pa + (size_t)(s * sa) * ea;
        const char *b = (const char *)pb + (size_t)(s * sb) * eb;
        if (ints) {
            int64_t x[256], y[256];
            oct_ref_load_i64(a, k->base, 0, sa, m, x);
            oct_ref_load_i64(b, k->exp, 0, sb, m, y);
            for (int64_t i = 0; i < m; i++)
                x[i] = ipow(x[i], y[i]);
            oct_ref_store_i64(po, k->base, s, m, x);
        } else {
            double x[256], y[256];
            oct_ref_load_f64(a, k->base, 0, sa, m, x);
            oct_ref_load_f64(b, k->exp, 0, sb, m, y);
            for (int64_t i = 0; i < m; i++)
                x[i] = pow(x[i], y[i]);
            oct_ref_store_f64(po, k->base, s, m, x);
        }
    }
}

static oct_ew_row pow_row(oct_dtype a, oct_dtype b) {
    if (a == b) {
        if (a == OCT_FLOAT) return pow_f32;
        if (a == OCT_DOUBLE) return pow_f64;
        if (a == OCT_FLOAT16) return pow_f16;
        if (a == OCT_BFLOAT16) return pow_bf16;
    }
    if (a == OCT_BOOL || b == OCT_BOOL) return NULL;
    return oct_ref_is_numeric(a) && oct_ref_is_numeric(b) ? pow_mixed : NULL;
}

/* ---- dispatch --------------------------------------------------------------- */

static oct_ew_row binary_row(oct_binary_op op, oct_dtype a, oct_dtype b) {
    if (op == OCT_BIN_POW) return pow_row(a, b);
    if (a != b) return NULL;
    if (op >= OCT_BIN_EQUAL && op <= OCT_BIN_LESS_EQUAL) return oct_ref_compare_row(op, a);
    if (op >= OCT_BIN_AND) return a == OCT_BOOL ? oct_ref_logical_row(op) : NULL;
    return oct_ref_arith_row(op, a);
}

int oct_ref_binary_supports(oct_binary_op op, oct_dtype a, oct_dtype b) {
    return binary_row(op, a, b) != NULL;
}

oct_status oct_ref_binary(oct_binary_op op, const oct_tensor *a, const oct_tensor *b,
                          oct_tensor *out) {
    oct_ew_row fn = binary_row(op, a->dtype, b->dtype);
    pow_ctx pc = {a->dtype, b->dtype};
    const oct_tensor *in[2] = {a, b};
    if (!fn) return OCT_E_UNSUPPORTED;
    oct_ref_broadcast_apply(out, 2, in, fn, &pc);
    return OCT_OK;
}
