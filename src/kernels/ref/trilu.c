/* Trilu and EyeLike: masks over the last two axes. */
#include <string.h>

#include "kernels/ref/ref_data.h"

void oct_ref_trilu(const oct_tensor *x, int upper, int64_t k, oct_tensor *y) {
    size_t es = oct_dtype_size(x->dtype);
    int64_t n = x->dims[x->ndim - 2], m = x->dims[x->ndim - 1];
    int64_t total = oct_numel(x), mat = n * m;
    if (mat == 0) return;
    const char *p = (const char *)x->data;
    char *q = (char *)y->data;
    for (int64_t b = 0; b < total / mat; b++) {
        for (int64_t i = 0; i < n; i++) {
            size_t row = (size_t)(b * mat + i * m) * es;
            for (int64_t j = 0; j < m; j++) {
                /* j - i cannot overflow; k may be any int64 */
                int keep = upper ? j - i >= k : j - i <= k;
                if (keep)
                    memcpy(q + row + (size_t)j * es, p + row + (size_t)j * es, es);
                else
                    memset(q + row + (size_t)j * es, 0, es);
            }
        }
    }
}

void oct_ref_eyelike(int64_t k, oct_tensor *y) {
    int64_t n = y->dims[0], m = y->dims[1];
    memset(y->data, 0, oct_nbytes(y));
    if (k >= m || k <= -n) return;
    for (int64_t i = 0; i < n; i++) {
        int64_t j = i + k;
        if (j >= 0 && j < m) oct_set_f64(y, i * m + j, 1.0);
    }
}
