#include "kernels/ref/ref_data.h"

void oct_ref_expand(const oct_tensor *x, oct_tensor *y) {
    int64_t xs[OCT_MAX_DIMS], ss[OCT_MAX_DIMS];
    int lead = y->ndim - x->ndim;
    oct_strides(x->ndim, x->dims, xs);
    for (int i = 0; i < y->ndim; i++) {
        int j = i - lead;
        ss[i] = j < 0 || x->dims[j] == 1 ? 0 : xs[j];
    }
    oct_ref_strided_copy(y->ndim, y->dims, ss, x->data, y->data, oct_dtype_size(x->dtype));
}
