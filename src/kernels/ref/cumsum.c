/* CumSum along one axis: x viewed as [outer, len, inner]. Floats sum in
 * double, integers in int64 (wrapping). exclusive leaves out the current
 * element; reverse runs from the end. */
#include "kernels/ref/ref_elementwise.h"

oct_status oct_ref_cumsum(const oct_tensor *x, int axis, int exclusive, int reverse,
                          oct_tensor *y) {
    oct_dtype dt = x->dtype;
    if (!oct_ref_is_numeric(dt) || dt == OCT_BOOL || y->dtype != dt || axis < 0 || axis >= x->ndim)
        return OCT_E_UNSUPPORTED;
    int64_t outer = 1, inner = 1, len = x->dims[axis];
    for (int d = 0; d < axis; d++)
        outer *= x->dims[d];
    for (int d = axis + 1; d < x->ndim; d++)
        inner *= x->dims[d];
    int ints = oct_dtype_is_int(dt);
    for (int64_t a = 0; a < outer; a++) {
        for (int64_t b = 0; b < inner; b++) {
            double sd = 0;
            int64_t si = 0;
            for (int64_t t = 0; t < len; t++) {
                int64_t i = reverse ? len - 1 - t : t;
                int64_t off = (a * len + i) * inner + b;
                if (ints) {
                    int64_t v, out;
                    oct_ref_load_i64(x->data, dt, off, 1, 1, &v);
                    out = exclusive ? si : (int64_t)((uint64_t)si + (uint64_t)v);
                    si = (int64_t)((uint64_t)si + (uint64_t)v);
                    oct_ref_store_i64(y->data, dt, off, 1, &out);
                } else {
                    double v, out;
                    oct_ref_load_f64(x->data, dt, off, 1, 1, &v);
                    out = exclusive ? sd : sd + v;
                    sd += v;
                    oct_ref_store_f64(y->data, dt, off, 1, &out);
                }
            }
        }
    }
    return OCT_OK;
}
