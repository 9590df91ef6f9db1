#include "kernels/ref/ref_data.h"

void oct_ref_slice(const oct_tensor *x, const int64_t *starts, const int64_t *steps,
                   oct_tensor *y) {
    if (oct_numel(y) == 0) return; /* starts may sit one past the end */
    int64_t xs[OCT_MAX_DIMS], ss[OCT_MAX_DIMS], off = 0;
    size_t es = oct_dtype_size(x->dtype);
    oct_strides(x->ndim, x->dims, xs);
    for (int i = 0; i < x->ndim; i++) {
        ss[i] = steps[i] * xs[i];
        off += starts[i] * xs[i];
    }
    oct_ref_strided_copy(y->ndim, y->dims, ss, (const char *)x->data + off * (int64_t)es, y->data,
                         es);
}
