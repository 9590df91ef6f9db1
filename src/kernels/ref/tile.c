#include "kernels/ref/ref_data.h"

/* Each output axis of size r*d is walked as two axes (r, d): the repeat axis
 * has source stride 0. */
void oct_ref_tile(const oct_tensor *x, oct_tensor *y) {
    if (oct_numel(y) == 0) return;
    int64_t xs[OCT_MAX_DIMS], dims[OCT_STRIDED_MAX_DIMS], ss[OCT_STRIDED_MAX_DIMS];
    oct_strides(x->ndim, x->dims, xs);
    for (int i = 0; i < x->ndim; i++) {
        dims[2 * i] = y->dims[i] / x->dims[i];
        ss[2 * i] = 0;
        dims[2 * i + 1] = x->dims[i];
        ss[2 * i + 1] = xs[i];
    }
    oct_ref_strided_copy(2 * x->ndim, dims, ss, x->data, y->data, oct_dtype_size(x->dtype));
}
