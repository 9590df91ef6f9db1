/* ScatterElements and ScatterND: copy data, then apply the updates in index
 * order, so duplicate indices behave as in ONNX Runtime (last write wins for
 * reduction "none", every update counts for the others). */
#include <string.h>

#include "core/arith.h"
#include "kernels/ref/ref_data.h"

int oct_ref_scatter_supports(oct_dtype dt, oct_scatter_reduce r) {
    if (r == OCT_SCATTER_NONE) return oct_dtype_size(dt) != 0;
    return oct_dtype_is_float(dt) || oct_dtype_is_int(dt);
}

static double reduce_f(oct_scatter_reduce r, double a, double b) {
    switch (r) {
    case OCT_SCATTER_ADD: return a + b;
    case OCT_SCATTER_MUL: return a * b;
    case OCT_SCATTER_MAX: return a > b ? a : b;
    case OCT_SCATTER_MIN: return a < b ? a : b;
    default: return b;
    }
}

/* Integer reductions wrap like two's complement: the arithmetic is done in
 * uint64_t, where overflow is defined, whatever the promotions of T. */
#define REDUCE_INT(T)                                                                              \
    do {                                                                                           \
        T a, b;                                                                                    \
        memcpy(&a, dst, sizeof a);                                                                 \
        memcpy(&b, src, sizeof b);                                                                 \
        switch (r) {                                                                               \
        case OCT_SCATTER_ADD: a = (T)((uint64_t)a + (uint64_t)b); break;                           \
        case OCT_SCATTER_MUL: a = (T)((uint64_t)a * (uint64_t)b); break;                           \
        case OCT_SCATTER_MAX: a = a > b ? a : b; break;                                            \
        case OCT_SCATTER_MIN: a = a < b ? a : b; break;                                            \
        default: a = b;                                                                            \
        }                                                                                          \
        memcpy(dst, &a, sizeof a);                                                                 \
    } while (0)

static void apply(oct_dtype dt, oct_scatter_reduce r, char *dst, const char *src, size_t es) {
    if (r == OCT_SCATTER_NONE) {
        memcpy(dst, src, es);
        return;
    }
    switch (dt) {
    case OCT_FLOAT: {
        float a, b;
        memcpy(&a, dst, 4);
        memcpy(&b, src, 4);
        /* float arithmetic, not double: matches a float32 runtime bit for bit */
        switch (r) {
        case OCT_SCATTER_ADD: a = a + b; break;
        case OCT_SCATTER_MUL: a = a * b; break;
        default: a = (float)reduce_f(r, a, b);
        }
        memcpy(dst, &a, 4);
        break;
    }
    case OCT_DOUBLE: {
        double a, b;
        memcpy(&a, dst, 8);
        memcpy(&b, src, 8);
        a = reduce_f(r, a, b);
        memcpy(dst, &a, 8);
        break;
    }
    case OCT_FLOAT16:
    case OCT_BFLOAT16: {
        uint16_t a, b;
        memcpy(&a, dst, 2);
        memcpy(&b, src, 2);
        int h = dt == OCT_FLOAT16;
        float fa = h ? oct_f16_to_f32(a) : oct_bf16_to_f32(a);
        float fb = h ? oct_f16_to_f32(b) : oct_bf16_to_f32(b);
        float v = r == OCT_SCATTER_ADD   ? fa + fb
                  : r == OCT_SCATTER_MUL ? fa * fb
                                         : (float)reduce_f(r, fa, fb);
        a = h ? oct_f32_to_f16(v) : oct_f32_to_bf16(v);
        memcpy(dst, &a, 2);
        break;
    }
    case OCT_INT8: REDUCE_INT(int8_t); break;
    case OCT_UINT8: REDUCE_INT(uint8_t); break;
    case OCT_INT16: REDUCE_INT(int16_t); break;
    case OCT_UINT16: REDUCE_INT(uint16_t); break;
    case OCT_INT32: REDUCE_INT(int32_t); break;
    case OCT_UINT32: REDUCE_INT(uint32_t); break;
    case OCT_INT64: REDUCE_INT(int64_t); break;
    case OCT_UINT64: REDUCE_INT(uint64_t); break;
    default: memcpy(dst, src, es); break;
    }
}

static inline int fix_index(int64_t *v, int64_t n) {
    if (*v < 0) *v += n;
    return *v >= 0 && *v < n;
}

oct_status oct_ref_scatter_elements(const oct_tensor *data, const oct_tensor *idx,
                                    const oct_tensor *upd, int axis, oct_scatter_reduce r,
                                    oct_tensor *out, int64_t *bad) {
    size_t es = oct_dtype_size(data->dtype);
    oct_ref_copy(data, out);
    int nd = idx->ndim, last = nd - 1;
    int64_t total = oct_numel(idx);
    if (total == 0) return OCT_OK;
    int64_t ds[OCT_MAX_DIMS], cnt[OCT_MAX_DIMS] = {0};
    oct_strides(data->ndim, data->dims, ds);
    int64_t n = data->dims[axis], len = idx->dims[last], rows = total / len;
    int64_t jstep = last == axis ? 0 : ds[last], base = 0, e = 0;
    const char *u = (const char *)upd->data;
    char *q = (char *)out->data;
    for (int64_t row = 0; row < rows; row++) {
        for (int64_t j = 0; j < len; j++, e++) {
            int64_t v = oct_ref_index_at(idx, e);
            if (!fix_index(&v, n)) {
                *bad = oct_ref_index_at(idx, e);
                return OCT_E_INVALID_ARG;
            }
            apply(data->dtype, r, q + (size_t)(base + j * jstep + v * ds[axis]) * es,
                  u + (size_t)e * es, es);
        }
        for (int d = last - 1; d >= 0; d--) {
            int64_t s = d == axis ? 0 : ds[d];
            base += s;
            if (++cnt[d] < idx->dims[d]) break;
            base -= s * idx->dims[d];
            cnt[d] = 0;
        }
    }
    return OCT_OK;
}

oct_status oct_ref_scatter_nd(const oct_tensor *data, const oct_tensor *idx, const oct_tensor *upd,
                              oct_scatter_reduce r, oct_tensor *out, int64_t *bad) {
    size_t es = oct_dtype_size(data->dtype);
    oct_ref_copy(data, out);
    int q = idx->ndim;
    int64_t k = idx->dims[q - 1], ds[OCT_MAX_DIMS], n = 1, slice = 1;
    oct_strides(data->ndim, data->dims, ds);
    for (int i = 0; i < q - 1; i++)
        n *= idx->dims[i];
    for (int i = (int)k; i < data->ndim; i++)
        slice *= data->dims[i];
    const char *u = (const char *)upd->data;
    char *o = (char *)out->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int64_t j = 0; j < k; j++) {
            int64_t v = oct_ref_index_at(idx, i * k + j);
            if (!fix_index(&v, data->dims[j])) {
                *bad = oct_ref_index_at(idx, i * k + j);
                return OCT_E_INVALID_ARG;
            }
            off += v * ds[j];
        }
        if (r == OCT_SCATTER_NONE) {
            memcpy(o + (size_t)off * es, u + (size_t)(i * slice) * es, (size_t)slice * es);
            continue;
        }
        for (int64_t s = 0; s < slice; s++)
            apply(data->dtype, r, o + (size_t)(off + s) * es, u + (size_t)(i * slice + s) * es, es);
    }
    return OCT_OK;
}
