/* Reference kernels for data movement, shape and indexing ops (Concat, Split,
 * Slice, Transpose, Gather*, Scatter*, TopK, ...).
 *
 * The op files (src/ops) validate inputs and turn attributes and value
 * inputs into plain parameters; these kernels only move data. They are
 * dtype-agnostic where ONNX is: elements are copied by their byte size, so
 * every numeric dtype and bool works. Kernels that read indices check them
 * and return OCT_E_INVALID_ARG with the offending value in *bad instead of
 * reading out of bounds. Tensors passed as outputs are allocated with their
 * final shape. */
#ifndef OCT_KERNELS_REF_REF_DATA_H
#define OCT_KERNELS_REF_REF_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"

/* Most dims a strided copy handles: Tile splits each axis in two. */
#define OCT_STRIDED_MAX_DIMS (2 * OCT_MAX_DIMS)

/* Index element i of an int32 or int64 tensor. */
static inline int64_t oct_ref_index_at(const oct_tensor *t, int64_t i) {
    return t->dtype == OCT_INT64 ? ((const int64_t *)t->data)[i]
                                 : (int64_t)((const int32_t *)t->data)[i];
}

/* dst (dense, row-major over dims) = src[sum(i_d * sstride_d)], strides in
 * elements, possibly negative or 0 (broadcast). src points at the element
 * for index 0. es is the element size in bytes. */
void oct_ref_strided_copy(int ndim, const int64_t *dims, const int64_t *sstride, const void *src,
                          void *dst, size_t es);

/* Concat of n inputs (NULL entries skipped) along axis into out. */
void oct_ref_concat(int n, const oct_tensor *const *in, int axis, oct_tensor *out);
/* Split x along axis into n parts of sizes[i]; out[i] may be NULL (skipped). */
void oct_ref_split(const oct_tensor *x, int axis, int n, const int64_t *sizes,
                   oct_tensor *const *out);
/* y[i] = x[start + i * step] per axis (starts already clamped, y's dims give
 * the counts). */
void oct_ref_slice(const oct_tensor *x, const int64_t *starts, const int64_t *steps, oct_tensor *y);
/* y = x with axes permuted: y.dims[i] = x.dims[perm[i]]. */
void oct_ref_transpose(const oct_tensor *x, const int *perm, oct_tensor *y);
/* y = x broadcast to y's shape (numpy rules, x's rank <= y's). */
void oct_ref_expand(const oct_tensor *x, oct_tensor *y);
/* y = x tiled: y.dims[i] = x.dims[i] * repeats[i]. */
void oct_ref_tile(const oct_tensor *x, oct_tensor *y);
/* Plain byte copy of x into y (same number of elements and dtype). */
void oct_ref_copy(const oct_tensor *x, oct_tensor *y);

/* Gather along axis; negative indices count from the end. */
oct_status oct_ref_gather(const oct_tensor *data, const oct_tensor *idx, int axis, oct_tensor *out,
                          int64_t *bad);
oct_status oct_ref_gather_elements(const oct_tensor *data, const oct_tensor *idx, int axis,
                                   oct_tensor *out, int64_t *bad);
oct_status oct_ref_gather_nd(const oct_tensor *data, const oct_tensor *idx, int batch_dims,
                             oct_tensor *out, int64_t *bad);

typedef enum oct_scatter_reduce {
    OCT_SCATTER_NONE = 0,
    OCT_SCATTER_ADD,
    OCT_SCATTER_MUL,
    OCT_SCATTER_MAX,
    OCT_SCATTER_MIN
} oct_scatter_reduce;
/* Whether a reduction is implemented for a dtype (none: every dtype). */
int oct_ref_scatter_supports(oct_dtype dt, oct_scatter_reduce r);
/* out = data, then updates scattered in order (ScatterElements). */
oct_status oct_ref_scatter_elements(const oct_tensor *data, const oct_tensor *idx,
                                    const oct_tensor *upd, int axis, oct_scatter_reduce r,
                                    oct_tensor *out, int64_t *bad);
oct_status oct_ref_scatter_nd(const oct_tensor *data, const oct_tensor *idx, const oct_tensor *upd,
                              oct_scatter_reduce r, oct_tensor *out, int64_t *bad);

/* TopK along axis; k = values.dims[axis]. Ties keep the lower index first.
 * indices (int64) may be NULL. Fails (OCT_E_NOMEM) only on allocation. */
oct_status oct_ref_topk(const oct_tensor *x, int axis, int largest, oct_tensor *values,
                        oct_tensor *indices);

/* Element i of x is non-zero (floats: -0.0 is zero, NaN is not). */
int oct_ref_is_nonzero(const oct_tensor *x, int64_t i);
int64_t oct_ref_count_nonzero(const oct_tensor *x);
/* y: int64 [max(rank, 1), count], x's coordinates of the non-zeros. */
void oct_ref_nonzero(const oct_tensor *x, oct_tensor *y);

/* values = {off, on}, of y's dtype. Out-of-range indices give all-off rows. */
void oct_ref_onehot(const oct_tensor *idx, int64_t depth, int axis, const oct_tensor *values,
                    oct_tensor *y);
/* Keeps the upper (j - i >= k) or lower (j - i <= k) triangle of each matrix. */
void oct_ref_trilu(const oct_tensor *x, int upper, int64_t k, oct_tensor *y);
/* y (2-D) = ones where j - i == k, zeros elsewhere. */
void oct_ref_eyelike(int64_t k, oct_tensor *y);
/* y = start, start + delta, ... accumulated in y's dtype (as ONNX Runtime). */
void oct_ref_range(const oct_tensor *start, const oct_tensor *delta, oct_tensor *y);
/* Fills y with the single element at value (same dtype). */
void oct_ref_fill(const void *value, oct_tensor *y);

#endif
