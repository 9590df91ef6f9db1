/* Gather, GatherElements, GatherND. Every index is range-checked before it
 * is used; negative indices count from the end of their axis. */
#include <string.h>

#include "kernels/ref/ref_data.h"

/* Sized copies: the element size is fixed per call, the branch predicts. */
static inline void put(char *dst, const char *src, size_t n) {
    switch (n) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, n);
    }
}

/* Normalises index v for an axis of size n; 0 when out of range. */
static inline int fix_index(int64_t *v, int64_t n) {
    if (*v < 0) *v += n;
    return *v >= 0 && *v < n;
}

oct_status oct_ref_gather(const oct_tensor *data, const oct_tensor *idx, int axis, oct_tensor *out,
                          int64_t *bad) {
    size_t es = oct_dtype_size(data->dtype);
    int64_t outer = 1, inner = 1, n = data->dims[axis], ni = oct_numel(idx);
    for (int i = 0; i < axis; i++)
        outer *= data->dims[i];
    for (int i = axis + 1; i < data->ndim; i++)
        inner *= data->dims[i];
    for (int64_t j = 0; j < ni; j++) {
        int64_t v = oct_ref_index_at(idx, j);
        if (!fix_index(&v, n)) {
            *bad = oct_ref_index_at(idx, j);
            return OCT_E_INVALID_ARG;
        }
    }
    size_t blk = (size_t)inner * es;
    const char *p = (const char *)data->data;
    char *q = (char *)out->data;
    for (int64_t o = 0; o < outer; o++) {
        const char *src = p + (size_t)(o * n) * blk;
        for (int64_t j = 0; j < ni; j++) {
            int64_t v = oct_ref_index_at(idx, j);
            if (v < 0) v += n;
            put(q, src + (size_t)v * blk, blk);
            q += blk;
        }
    }
    return OCT_OK;
}

/* out[c] = data[c with c[axis] replaced by idx[c]], c over idx's shape. */
oct_status oct_ref_gather_elements(const oct_tensor *data, const oct_tensor *idx, int axis,
                                   oct_tensor *out, int64_t *bad) {
    size_t es = oct_dtype_size(data->dtype);
    int r = idx->ndim, last = r - 1;
    int64_t ds[OCT_MAX_DIMS], cnt[OCT_MAX_DIMS] = {0};
    int64_t n = data->dims[axis], total = oct_numel(idx);
    if (total == 0) return OCT_OK;
    oct_strides(data->ndim, data->dims, ds);
    int64_t len = idx->dims[last], rows = total / len;
    int64_t jstep = last == axis ? 0 : ds[last];
    int64_t base = 0; /* offset of the row start, axis coordinate excluded */
    const char *p = (const char *)data->data;
    char *q = (char *)out->data;
    int64_t e = 0;
    for (int64_t row = 0; row < rows; row++) {
        for (int64_t j = 0; j < len; j++, e++) {
            int64_t v = oct_ref_index_at(idx, e);
            if (!fix_index(&v, n)) {
                *bad = oct_ref_index_at(idx, e);
                return OCT_E_INVALID_ARG;
            }
            put(q + (size_t)e * es, p + (size_t)(base + j * jstep + v * ds[axis]) * es, es);
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

oct_status oct_ref_gather_nd(const oct_tensor *data, const oct_tensor *idx, int batch_dims,
                             oct_tensor *out, int64_t *bad) {
    size_t es = oct_dtype_size(data->dtype);
    int b = batch_dims, q = idx->ndim;
    int64_t k = idx->dims[q - 1];
    int64_t ds[OCT_MAX_DIMS], batch = 1, per = 1, slice = 1;
    oct_strides(data->ndim, data->dims, ds);
    for (int i = 0; i < b; i++)
        batch *= data->dims[i];
    for (int i = b; i < q - 1; i++)
        per *= idx->dims[i];
    for (int i = b + (int)k; i < data->ndim; i++)
        slice *= data->dims[i];
    int64_t bstride = b > 0 ? ds[b - 1] : 0;
    size_t blk = (size_t)slice * es;
    const char *p = (const char *)data->data;
    char *o = (char *)out->data;
    for (int64_t bi = 0; bi < batch; bi++) {
        for (int64_t t = 0; t < per; t++) {
            int64_t pos = (bi * per + t) * k, off = bi * bstride;
            for (int64_t j = 0; j < k; j++) {
                int64_t v = oct_ref_index_at(idx, pos + j);
                if (!fix_index(&v, data->dims[b + j])) {
                    *bad = oct_ref_index_at(idx, pos + j);
                    return OCT_E_INVALID_ARG;
                }
                off += v * ds[b + j];
            }
            if (blk) memcpy(o, p + (size_t)off * es, blk);
            o += blk;
        }
    }
    return OCT_OK;
}
