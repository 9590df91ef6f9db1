/* Where: out = cond ? x : y with three-way broadcasting. Elements are moved
 * by byte size, so every dtype works. */
#include "kernels/ref/ref_elementwise.h"

#define WHERE_ROW(NAME, T)                                                                         \
    static void NAME(void *po, const void *pa, int64_t sa, const void *pb, int64_t sb,             \
                     const void *pc, int64_t sc, int64_t n, const void *ctx) {                     \
        const uint8_t *c = (const uint8_t *)pa;                                                    \
        const T *x = (const T *)pb;                                                                \
        const T *y = (const T *)pc;                                                                \
        T *o = (T *)po;                                                                            \
        (void)ctx;                                                                                 \
        if (sa == 1 && sb == 1 && sc == 1)                                                         \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i] = c[i] ? x[i] : y[i];                                                         \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i] = c[i * sa] ? x[i * sb] : y[i * sc];                                          \
    }
WHERE_ROW(where_1, uint8_t)
WHERE_ROW(where_2, uint16_t)
WHERE_ROW(where_4, uint32_t)
WHERE_ROW(where_8, uint64_t)

oct_status oct_ref_where(const oct_tensor *cond, const oct_tensor *x, const oct_tensor *y,
                         oct_tensor *out) {
    const oct_tensor *in[3] = {cond, x, y};
    oct_ew_row fn;
    if (cond->dtype != OCT_BOOL || x->dtype != out->dtype || y->dtype != out->dtype)
        return OCT_E_UNSUPPORTED;
    switch (oct_dtype_size(out->dtype)) {
    case 1: fn = where_1; break;
    case 2: fn = where_2; break;
    case 4: fn = where_4; break;
    case 8: fn = where_8; break;
    default: return OCT_E_UNSUPPORTED;
    }
    oct_ref_broadcast_apply(out, 3, in, fn, NULL);
    return OCT_OK;
}
