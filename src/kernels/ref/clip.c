/* Clip: y = min(max(x, lo), hi) in x's dtype; NaN passes through. When
 * lo > hi every element becomes hi, as numpy.clip and ONNX Runtime do. */
#include <math.h>

#include "kernels/ref/ref_elementwise.h"

/* The bounds in each compute domain. */
typedef struct clip_ctx {
    double f[2];
    int64_t i[2];
    uint64_t u[2];
} clip_ctx;

#define LO_F f[0]
#define HI_F f[1]
#define LO_I i[0]
#define HI_I i[1]
#define LO_U u[0]
#define HI_U u[1]

#define GEN(OP, DT, SFX, T, C, K, LD, ST)                                                          \
    static void r_clip_##SFX(void *po, const void *pa, int64_t sa, const void *pb, int64_t sb,     \
                             const void *pc, int64_t sc, int64_t n, const void *ctx) {             \
        const clip_ctx *k = (const clip_ctx *)ctx;                                                 \
        const C lo = (C)k->LO_##K, hi = (C)k->HI_##K;                                              \
        const T *a = (const T *)pa;                                                                \
        T *o = (T *)po;                                                                            \
        (void)pb, (void)sb, (void)pc, (void)sc;                                                    \
        for (int64_t i = 0; i < n; i++) {                                                          \
            C v = LD(a[i * sa]);                                                                   \
            v = v < lo ? lo : v;                                                                   \
            o[i] = ST(T, v > hi ? hi : v);                                                         \
        }                                                                                          \
    }
#define CASE(OP, DT, SFX, T, C, K, LD, ST)                                                         \
    case DT: return r_clip_##SFX;
OCT_EW_NUM_TYPES(GEN, clip)

static oct_ew_row clip_row(oct_dtype dt) {
    switch (dt) {
        OCT_EW_NUM_TYPES(CASE, clip)
    default: return NULL;
    }
}

static void run(const oct_tensor *x, clip_ctx *k, oct_tensor *y) {
    oct_ref_broadcast_apply(y, 1, &x, clip_row(x->dtype), k);
}

oct_status oct_ref_clip(const oct_tensor *x, const oct_tensor *lo, const oct_tensor *hi,
                        oct_tensor *y) {
    clip_ctx k;
    int64_t ilo, ihi;
    if (!clip_row(x->dtype) || y->dtype != x->dtype) return OCT_E_UNSUPPORTED;
    if ((lo && (lo->dtype != x->dtype || oct_numel(lo) != 1 || !lo->data)) ||
        (hi && (hi->dtype != x->dtype || oct_numel(hi) != 1 || !hi->data)))
        return OCT_E_UNSUPPORTED;
    oct_ref_int_limits(x->dtype, &ilo, &ihi);
    k.f[0] = lo ? oct_get_f64(lo, 0) : -INFINITY;
    k.f[1] = hi ? oct_get_f64(hi, 0) : INFINITY;
    k.i[0] = lo ? oct_get_i64(lo, 0) : ilo;
    k.i[1] = hi ? oct_get_i64(hi, 0) : ihi;
    /* uint64 bounds come back bit for bit from oct_get_i64 */
    k.u[0] = lo ? (uint64_t)oct_get_i64(lo, 0) : 0;
    k.u[1] = hi ? (uint64_t)oct_get_i64(hi, 0) : UINT64_MAX;
    run(x, &k, y);
    return OCT_OK;
}

oct_status oct_ref_clip_f(const oct_tensor *x, double lo, double hi, oct_tensor *y) {
    clip_ctx k = {{lo, hi}, {0, 0}, {0, 0}};
    if (!oct_dtype_is_float(x->dtype) || y->dtype != x->dtype) return OCT_E_UNSUPPORTED;
    run(x, &k, y);
    return OCT_OK;
}
