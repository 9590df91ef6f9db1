/* Sum, Mean, Min and Max of N broadcasting inputs: the output starts as the
 * first input broadcast, then each further input is folded in place with
 * the binary row function. */
#include "kernels/ref/ref_elementwise.h"

oct_status oct_ref_variadic(oct_binary_op op, int mean, int n, const oct_tensor *const *in,
                            oct_tensor *out) {
    oct_ew_row fn = oct_ref_arith_row(op, out->dtype);
    if (!fn || n < 1) return OCT_E_UNSUPPORTED;
    for (int k = 0; k < n; k++)
        if (!in[k] || in[k]->dtype != out->dtype) return OCT_E_UNSUPPORTED;
    oct_ref_broadcast_copy(in[0], out);
    for (int k = 1; k < n; k++) {
        const oct_tensor *pair[2] = {out, in[k]};
        oct_ref_broadcast_apply(out, 2, pair, fn, NULL);
    }
    if (mean && n > 1) {
        /* divide by n held as a scalar of the output dtype (exact for any
         * realistic n, even in float16) */
        uint64_t storage = 0;
        oct_tensor count = {0};
        count.dtype = out->dtype;
        count.ndim = 0;
        count.data = &storage;
        oct_set_f64(&count, 0, (double)n);
        const oct_tensor *pair[2] = {out, &count};
        oct_ref_broadcast_apply(out, 2, pair, oct_ref_arith_row(OCT_BIN_DIV, out->dtype), NULL);
    }
    return OCT_OK;
}
