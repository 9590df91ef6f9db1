/* ArgMax / ArgMin along one axis: x viewed as [outer, len, inner]. Values
 * compare in double for float dtypes and in int64 for integers (exact);
 * uint64 compares in double. A NaN is never selected over a number. */
#include "kernels/ref/ref_elementwise.h"

oct_status oct_ref_argminmax(const oct_tensor *x, int axis, int is_max, int select_last,
                             oct_tensor *y) {
    oct_dtype dt = x->dtype;
    if (!oct_ref_is_numeric(dt) || axis < 0 || axis >= x->ndim) return OCT_E_UNSUPPORTED;
    int64_t outer = 1, inner = 1, len = x->dims[axis];
    for (int d = 0; d < axis; d++)
        outer *= x->dims[d];
    for (int d = axis + 1; d < x->ndim; d++)
        inner *= x->dims[d];
    int ints = oct_dtype_is_int(dt) && dt != OCT_UINT64;
    int64_t *o = (int64_t *)y->data;
    for (int64_t a = 0; a < outer; a++) {
        for (int64_t b = 0; b < inner; b++) {
            int64_t base = a * len * inner + b, best = 0;
            double bd = 0;
            int64_t bi = 0;
            for (int64_t i = 0; i < len; i += 256) {
                int64_t k = len - i < 256 ? len - i : 256;
                double vd[256];
                int64_t vi[256];
                if (ints)
                    oct_ref_load_i64(x->data, dt, base + i * inner, inner, k, vi);
                else
                    oct_ref_load_f64(x->data, dt, base + i * inner, inner, k, vd);
                for (int64_t j = 0; j < k; j++) {
                    int take;
                    if (i + j == 0)
                        take = 1;
                    else if (ints)
                        take = is_max ? (select_last ? vi[j] >= bi : vi[j] > bi)
                                      : (select_last ? vi[j] <= bi : vi[j] < bi);
                    else
                        take = bd != bd || (is_max ? (select_last ? vd[j] >= bd : vd[j] > bd)
                                                   : (select_last ? vd[j] <= bd : vd[j] < bd));
                    if (take) {
                        best = i + j;
                        if (ints)
                            bi = vi[j];
                        else
                            bd = vd[j];
                    }
                }
            }
            o[a * inner + b] = best;
        }
    }
    return OCT_OK;
}
