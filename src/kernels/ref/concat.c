/* Concat and Split: blocks of contiguous bytes, one per (outer index, part). */
#include <string.h>

#include "kernels/ref/ref_data.h"

static int64_t prod(const int64_t *d, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= d[i];
    return p;
}

void oct_ref_concat(int n, const oct_tensor *const *in, int axis, oct_tensor *out) {
    size_t es = oct_dtype_size(out->dtype);
    int64_t outer = prod(out->dims, 0, axis);
    size_t inner = (size_t)prod(out->dims, axis + 1, out->ndim) * es;
    char *q = (char *)out->data;
    for (int64_t o = 0; o < outer; o++) {
        for (int i = 0; i < n; i++) {
            if (!in[i]) continue;
            size_t blk = (size_t)in[i]->dims[axis] * inner;
            if (!blk) continue;
            memcpy(q, (const char *)in[i]->data + (size_t)o * blk, blk);
            q += blk;
        }
    }
}

void oct_ref_split(const oct_tensor *x, int axis, int n, const int64_t *sizes,
                   oct_tensor *const *out) {
    size_t es = oct_dtype_size(x->dtype);
    int64_t outer = prod(x->dims, 0, axis);
    size_t inner = (size_t)prod(x->dims, axis + 1, x->ndim) * es;
    const char *p = (const char *)x->data;
    for (int64_t o = 0; o < outer; o++) {
        for (int i = 0; i < n; i++) {
            size_t blk = (size_t)sizes[i] * inner;
            if (out[i] && blk) memcpy((char *)out[i]->data + (size_t)o * blk, p, blk);
            p += blk;
        }
    }
}
