#include "kernels/ref/ref_data.h"

void oct_ref_transpose(const oct_tensor *x, const int *perm, oct_tensor *y) {
    int64_t xs[OCT_MAX_DIMS], ss[OCT_MAX_DIMS];
    oct_strides(x->ndim, x->dims, xs);
    for (int i = 0; i < y->ndim; i++)
        ss[i] = xs[perm[i]];
    oct_ref_strided_copy(y->ndim, y->dims, ss, x->data, y->data, oct_dtype_size(x->dtype));
}
