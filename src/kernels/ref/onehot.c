#include <string.h>

#include "kernels/ref/ref_data.h"

void oct_ref_onehot(const oct_tensor *idx, int64_t depth, int axis, const oct_tensor *values,
                    oct_tensor *y) {
    size_t es = oct_dtype_size(y->dtype);
    const char *off = (const char *)values->data, *on = off + es;
    oct_ref_fill(off, y);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++)
        outer *= idx->dims[i];
    for (int i = axis; i < idx->ndim; i++)
        inner *= idx->dims[i];
    char *q = (char *)y->data;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            int64_t v = oct_get_i64(idx, o * inner + i);
            if (v < 0) v += depth;
            if (v < 0 || v >= depth) continue; /* all-off row, as the spec says */
            memcpy(q + (size_t)((o * depth + v) * inner + i) * es, on, es);
        }
    }
}
