#include <string.h>

#include "kernels/ref/ref_data.h"

int oct_ref_is_nonzero(const oct_tensor *x, int64_t i) {
    const char *p = (const char *)x->data;
    switch (x->dtype) {
    case OCT_FLOAT: {
        uint32_t u;
        memcpy(&u, p + i * 4, 4);
        return (u & 0x7fffffffu) != 0;
    }
    case OCT_DOUBLE: {
        uint64_t u;
        memcpy(&u, p + i * 8, 8);
        return (u & UINT64_C(0x7fffffffffffffff)) != 0;
    }
    case OCT_FLOAT16:
    case OCT_BFLOAT16: {
        uint16_t u;
        memcpy(&u, p + i * 2, 2);
        return (u & 0x7fffu) != 0;
    }
    default: {
        size_t es = oct_dtype_size(x->dtype);
        for (size_t b = 0; b < es; b++)
            if (p[(size_t)i * es + b]) return 1;
        return 0;
    }
    }
}

int64_t oct_ref_count_nonzero(const oct_tensor *x) {
    int64_t n = oct_numel(x), c = 0;
    for (int64_t i = 0; i < n; i++)
        c += oct_ref_is_nonzero(x, i);
    return c;
}

void oct_ref_nonzero(const oct_tensor *x, oct_tensor *y) {
    int64_t n = oct_numel(x), cnt = y->dims[1], coord[OCT_MAX_DIMS] = {0}, j = 0;
    int64_t *out = (int64_t *)y->data;
    for (int64_t i = 0; i < n && j < cnt; i++) {
        if (oct_ref_is_nonzero(x, i)) {
            for (int d = 0; d < x->ndim; d++)
                out[d * cnt + j] = coord[d];
            j++; /* a scalar's one row stays 0 */
        }
        for (int d = x->ndim - 1; d >= 0; d--) {
            if (++coord[d] < x->dims[d]) break;
            coord[d] = 0;
        }
    }
}
