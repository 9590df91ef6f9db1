/* The element-wise driver shared by every broadcasting op, and the bulk
 * dtype conversions the reductions and Cast build on. */
#include <math.h>
#include <string.h>

#include "kernels/ref/ref_elementwise.h"

int oct_ref_merge_dims(int ndim, int64_t *dims, int n_ops, int64_t (*st)[OCT_MAX_DIMS]) {
    int m = 0;
    for (int d = 0; d < ndim; d++) {
        if (dims[d] == 1) continue;
        int merge = m > 0;
        for (int k = 0; k < n_ops && merge; k++)
            if (st[k][m - 1] != st[k][d] * dims[d]) merge = 0;
        if (merge) {
            dims[m - 1] *= dims[d];
            for (int k = 0; k < n_ops; k++)
                st[k][m - 1] = st[k][d];
        } else {
            dims[m] = dims[d];
            for (int k = 0; k < n_ops; k++)
                st[k][m] = st[k][d];
            m++;
        }
    }
    return m;
}

void oct_ref_broadcast_apply(oct_tensor *out, int n_in, const oct_tensor *const *in, oct_ew_row fn,
                             const void *ctx) {
    int nd = out->ndim;
    int64_t dims[OCT_MAX_DIMS];
    int64_t st[3][OCT_MAX_DIMS];
    size_t es[3] = {0, 0, 0};
    const char *base[3] = {NULL, NULL, NULL};
    if (oct_numel(out) <= 0) return;
    for (int d = 0; d < nd; d++)
        dims[d] = out->dims[d];
    for (int k = 0; k < n_in; k++) {
        const oct_tensor *t = in[k];
        int off = nd - t->ndim;
        int64_t s = 1;
        for (int d = nd - 1; d >= 0; d--) {
            int64_t dim = d < off ? 1 : t->dims[d - off];
            st[k][d] = dim == 1 ? 0 : s;
            s *= dim;
        }
        es[k] = oct_dtype_size(t->dtype);
        base[k] = (const char *)t->data;
    }
    int m = oct_ref_merge_dims(nd, dims, n_in, st);
    size_t eo = oct_dtype_size(out->dtype);
    char *o = (char *)out->data;
    if (m == 0) { /* a single element */
        fn(o, base[0], 0, base[1], 0, base[2], 0, 1, ctx);
        return;
    }
    int64_t n = dims[m - 1];
    int64_t rows = oct_numel(out) / n;
    int64_t idx[OCT_MAX_DIMS] = {0};
    int64_t off[3] = {0, 0, 0};
    for (int64_t r = 0; r < rows; r++) {
        fn(o + (size_t)(r * n) * eo, base[0] ? base[0] + (size_t)off[0] * es[0] : NULL,
           st[0][m - 1], base[1] ? base[1] + (size_t)off[1] * es[1] : NULL, st[1][m - 1],
           base[2] ? base[2] + (size_t)off[2] * es[2] : NULL, st[2][m - 1], n, ctx);
        /* advance the odometer over the outer dims */
        for (int d = m - 2; d >= 0; d--) {
            idx[d]++;
            for (int k = 0; k < n_in; k++)
                off[k] += st[k][d];
            if (idx[d] < dims[d]) break;
            for (int k = 0; k < n_in; k++)
                off[k] -= st[k][d] * dims[d];
            idx[d] = 0;
        }
    }
}

#define COPY_ROW(NAME, T)                                                                          \
    static void NAME(void *po, const void *pa, int64_t sa, const void *pb, int64_t sb,             \
                     const void *pc, int64_t sc, int64_t n, const void *ctx) {                     \
        const T *a = (const T *)pa;                                                                \
        T *o = (T *)po;                                                                            \
        (void)pb, (void)sb, (void)pc, (void)sc, (void)ctx;                                         \
        if (sa == 1)                                                                               \
            memcpy(o, a, (size_t)n * sizeof(T));                                                   \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i] = a[i * sa];                                                                  \
    }
COPY_ROW(copy_1, uint8_t)
COPY_ROW(copy_2, uint16_t)
COPY_ROW(copy_4, uint32_t)
COPY_ROW(copy_8, uint64_t)

void oct_ref_broadcast_copy(const oct_tensor *x, oct_tensor *y) {
    static const oct_ew_row by_size[9] = {NULL, copy_1, copy_2, NULL,  copy_4,
                                          NULL, NULL,   NULL,   copy_8};
    size_t es = oct_dtype_size(y->dtype);
    if (es > 8 || !by_size[es]) return;
    oct_ref_broadcast_apply(y, 1, &x, by_size[es], NULL);
}

int oct_ref_is_numeric(oct_dtype dt) {
    return oct_dtype_is_float(dt) || oct_dtype_is_int(dt) || dt == OCT_BOOL;
}

void oct_ref_int_limits(oct_dtype dt, int64_t *lo, int64_t *hi) {
    switch (dt) {
    case OCT_INT8: *lo = INT8_MIN, *hi = INT8_MAX; break;
    case OCT_INT16: *lo = INT16_MIN, *hi = INT16_MAX; break;
    case OCT_INT32: *lo = INT32_MIN, *hi = INT32_MAX; break;
    case OCT_UINT8: *lo = 0, *hi = UINT8_MAX; break;
    case OCT_UINT16: *lo = 0, *hi = UINT16_MAX; break;
    case OCT_UINT32: *lo = 0, *hi = UINT32_MAX; break;
    case OCT_UINT64: *lo = 0, *hi = INT64_MAX; break; /* capped: int64 holds no more */
    case OCT_BOOL: *lo = 0, *hi = 1; break;
    default: *lo = INT64_MIN, *hi = INT64_MAX; break;
    }
}

#define LOAD_LOOP(T, EXPR)                                                                         \
    do {                                                                                           \
        const T *p = (const T *)base + off;                                                        \
        for (int64_t i = 0; i < n; i++)                                                            \
            dst[i] = EXPR(p[i * step]);                                                            \
    } while (0)
#define AS_IS(v) (v)

void oct_ref_load_f64(const void *base, oct_dtype dt, int64_t off, int64_t step, int64_t n,
                      double *dst) {
    switch (dt) {
    case OCT_FLOAT: LOAD_LOOP(float, AS_IS); break;
    case OCT_DOUBLE: LOAD_LOOP(double, AS_IS); break;
    case OCT_FLOAT16: LOAD_LOOP(uint16_t, oct_f16_to_f32); break;
    case OCT_BFLOAT16: LOAD_LOOP(uint16_t, oct_bf16_to_f32); break;
    case OCT_INT8: LOAD_LOOP(int8_t, AS_IS); break;
    case OCT_INT16: LOAD_LOOP(int16_t, AS_IS); break;
    case OCT_INT32: LOAD_LOOP(int32_t, AS_IS); break;
    case OCT_INT64: LOAD_LOOP(int64_t, (double)); break;
    case OCT_UINT8:
    case OCT_BOOL: LOAD_LOOP(uint8_t, AS_IS); break;
    case OCT_UINT16: LOAD_LOOP(uint16_t, AS_IS); break;
    case OCT_UINT32: LOAD_LOOP(uint32_t, AS_IS); break;
    case OCT_UINT64: LOAD_LOOP(uint64_t, (double)); break;
    default:
        for (int64_t i = 0; i < n; i++)
            dst[i] = 0;
        break;
    }
}

static int64_t f64_to_i64(double v) {
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}
static uint64_t f64_to_u64(double v) {
    if (v >= 9223372036854775808.0) /* beyond int64: only uint64 holds it */
        return v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
    return (uint64_t)f64_to_i64(v);
}
#define TO_F16(v) oct_f32_to_f16((float)(v))
#define TO_BF16(v) oct_f32_to_bf16((float)(v))
#define TO_BOOL(v) ((v) != 0)
#define STORE_LOOP(T, EXPR)                                                                        \
    do {                                                                                           \
        T *p = (T *)base + off;                                                                    \
        for (int64_t i = 0; i < n; i++)                                                            \
            p[i] = (T)(EXPR(src[i]));                                                              \
    } while (0)

void oct_ref_store_f64(void *base, oct_dtype dt, int64_t off, int64_t n, const double *src) {
    switch (dt) {
    case OCT_FLOAT: STORE_LOOP(float, AS_IS); break;
    case OCT_DOUBLE: STORE_LOOP(double, AS_IS); break;
    case OCT_FLOAT16: STORE_LOOP(uint16_t, TO_F16); break;
    case OCT_BFLOAT16: STORE_LOOP(uint16_t, TO_BF16); break;
    case OCT_BOOL: STORE_LOOP(uint8_t, TO_BOOL); break;
    case OCT_INT8: STORE_LOOP(int8_t, f64_to_i64); break;
    case OCT_INT16: STORE_LOOP(int16_t, f64_to_i64); break;
    case OCT_INT32: STORE_LOOP(int32_t, f64_to_i64); break;
    case OCT_INT64: STORE_LOOP(int64_t, f64_to_i64); break;
    case OCT_UINT8: STORE_LOOP(uint8_t, f64_to_i64); break;
    case OCT_UINT16: STORE_LOOP(uint16_t, f64_to_i64); break;
    case OCT_UINT32: STORE_LOOP(uint32_t, f64_to_i64); break;
    case OCT_UINT64: STORE_LOOP(uint64_t, f64_to_u64); break;
    default: break;
    }
}

#define F16_I64(v) f64_to_i64(oct_f16_to_f32(v))
#define BF16_I64(v) f64_to_i64(oct_bf16_to_f32(v))
void oct_ref_load_i64(const void *base, oct_dtype dt, int64_t off, int64_t step, int64_t n,
                      int64_t *dst) {
    switch (dt) {
    case OCT_INT8: LOAD_LOOP(int8_t, AS_IS); break;
    case OCT_INT16: LOAD_LOOP(int16_t, AS_IS); break;
    case OCT_INT32: LOAD_LOOP(int32_t, AS_IS); break;
    case OCT_INT64: LOAD_LOOP(int64_t, AS_IS); break;
    case OCT_UINT8:
    case OCT_BOOL: LOAD_LOOP(uint8_t, AS_IS); break;
    case OCT_UINT16: LOAD_LOOP(uint16_t, AS_IS); break;
    case OCT_UINT32: LOAD_LOOP(uint32_t, AS_IS); break;
    case OCT_UINT64: LOAD_LOOP(uint64_t, (int64_t)); break;
    case OCT_FLOAT: LOAD_LOOP(float, f64_to_i64); break;
    case OCT_DOUBLE: LOAD_LOOP(double, f64_to_i64); break;
    case OCT_FLOAT16: LOAD_LOOP(uint16_t, F16_I64); break;
    case OCT_BFLOAT16: LOAD_LOOP(uint16_t, BF16_I64); break;
    default:
        for (int64_t i = 0; i < n; i++)
            dst[i] = 0;
        break;
    }
}

void oct_ref_store_i64(void *base, oct_dtype dt, int64_t off, int64_t n, const int64_t *src) {
    switch (dt) {
    case OCT_INT8: STORE_LOOP(int8_t, AS_IS); break;
    case OCT_INT16: STORE_LOOP(int16_t, AS_IS); break;
    case OCT_INT32: STORE_LOOP(int32_t, AS_IS); break;
    case OCT_INT64: STORE_LOOP(int64_t, AS_IS); break;
    case OCT_UINT8: STORE_LOOP(uint8_t, AS_IS); break;
    case OCT_UINT16: STORE_LOOP(uint16_t, AS_IS); break;
    case OCT_UINT32: STORE_LOOP(uint32_t, AS_IS); break;
    case OCT_UINT64: STORE_LOOP(uint64_t, AS_IS); break;
    case OCT_BOOL: STORE_LOOP(uint8_t, TO_BOOL); break;
    case OCT_FLOAT: STORE_LOOP(float, AS_IS); break;
    case OCT_DOUBLE: STORE_LOOP(double, AS_IS); break;
    case OCT_FLOAT16: STORE_LOOP(uint16_t, TO_F16); break;
    case OCT_BFLOAT16: STORE_LOOP(uint16_t, TO_BF16); break;
    default: break;
    }
}
