/* Cast between numeric dtypes (bool, float16 and bfloat16 included).
 * Integer to integer goes through int64 (exact, wraps to the target width);
 * anything involving a float goes through double: float to integer
 * truncates toward zero (NaN gives 0, out-of-range values saturate to int64
 * then wrap), float to bool is v != 0 (NaN is true). */
#include <string.h>

#include "kernels/ref/ref_elementwise.h"

int oct_ref_cast_supports(oct_dtype from, oct_dtype to) {
    return oct_ref_is_numeric(from) && oct_ref_is_numeric(to);
}

oct_status oct_ref_cast(const oct_tensor *x, oct_tensor *y) {
    int64_t n = oct_numel(x);
    if (!oct_ref_cast_supports(x->dtype, y->dtype) || oct_numel(y) != n) return OCT_E_UNSUPPORTED;
    if (x->dtype == y->dtype) {
        memcpy(y->data, x->data, oct_nbytes(x));
        return OCT_OK;
    }
    int exact_int = !oct_dtype_is_float(x->dtype) && !oct_dtype_is_float(y->dtype);
    for (int64_t s = 0; s < n; s += 256) {
        int64_t k = n - s < 256 ? n - s : 256;
        if (exact_int) {
            int64_t buf[256];
            oct_ref_load_i64(x->data, x->dtype, s, 1, k, buf);
            oct_ref_store_i64(y->data, y->dtype, s, k, buf);
        } else {
            double buf[256];
            oct_ref_load_f64(x->data, x->dtype, s, 1, k, buf);
            oct_ref_store_f64(y->data, y->dtype, s, k, buf);
        }
    }
    return OCT_OK;
}
