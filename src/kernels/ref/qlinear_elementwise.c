/* com.microsoft QLinearAdd and QLinearMul over numpy broadcasting.
 *
 * The contrib spec defines both as dequantize, operate, quantize. ONNX
 * Runtime, whose kernels define these ops in practice, rearranges the float
 * arithmetic; the spec's order moves about one QLinearAdd output in 10^4 by
 * one code (MLPerf-Tiny ResNet-8), so these kernels follow ONNX Runtime's
 * x86-64 kernels (MLAS, AVX2 build) operation for operation, in portable C
 * (fmaf is the fused multiply-add those kernels' compiler emits). */
#include <math.h>

#include "kernels/ref/ref_elementwise.h"
#include "kernels/ref/ref_quant.h"

/* QLinearAdd. With rx = x_scale / c_scale per operand, x the operand that
 * varies along the row and y the other one:
 *   fixed = c_zp - fma(rx, x_zp, ry * y_zp)
 *   c = round(fma(x, rx, fma(y, ry, fixed)))
 * When y is constant along the row (broadcast), fma(y, ry, fixed) is
 * computed once; when both vary, x is A. The result is rounded half to even
 * and saturated. */
static void add_row(void *po, const void *pa, int64_t sa, const void *pb, int64_t sb,
                    const void *pc, int64_t sc, int64_t n, const void *ctx) {
    (void)pc;
    (void)sc;
    const oct_qbinary_params *p = ctx;
    int32_t lo, hi;
    oct_q_range(p->dt, &lo, &hi);
    int swap = sa == 0 && n > 1; /* a scalar A is passed to MLAS as its B */
    const void *px = swap ? pb : pa, *py = swap ? pa : pb;
    int64_t sx = swap ? sb : sa, sy = swap ? sa : sb;
    float rx = (swap ? p->b_scale : p->a_scale) / p->c_scale;
    float ry = (swap ? p->a_scale : p->b_scale) / p->c_scale;
    float zx = (float)(swap ? p->b_zp : p->a_zp), zy = (float)(swap ? p->a_zp : p->b_zp);
    float fixed = oct_qadd_fixed(rx, zx, ry, zy, (float)p->c_zp);
    if (sy == 0) {
        float fy = oct_qadd_fy(oct_q_get(py, p->dt, 0), ry, fixed);
        for (int64_t i = 0; i < n; i++)
            oct_q_set(po, p->dt, i, oct_qadd_code(oct_q_get(px, p->dt, i * sx), rx, fy, lo, hi));
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        float fy = oct_qadd_fy(oct_q_get(py, p->dt, i * sy), ry, fixed);
        oct_q_set(po, p->dt, i, oct_qadd_code(oct_q_get(px, p->dt, i * sx), rx, fy, lo, hi));
    }
}

/* QLinearMul: oct_qmul_code (ref_quant.h) on each element. */
static void mul_row(void *po, const void *pa, int64_t sa, const void *pb, int64_t sb,
                    const void *pc, int64_t sc, int64_t n, const void *ctx) {
    (void)pc;
    (void)sc;
    const oct_qbinary_params *p = ctx;
    int32_t lo, hi;
    oct_q_range(p->dt, &lo, &hi);
    float ratio = p->a_scale * p->b_scale / p->c_scale, zc = (float)p->c_zp;
    for (int64_t i = 0; i < n; i++)
        oct_q_set(po, p->dt, i,
                  oct_qmul_code(oct_q_get(pa, p->dt, i * sa), oct_q_get(pb, p->dt, i * sb), p->a_zp,
                                p->b_zp, ratio, zc, lo, hi));
}

void oct_ref_qlinear_binary(const oct_qbinary_params *p, const oct_tensor *a, const oct_tensor *b,
                            oct_tensor *c) {
    const oct_tensor *in[2] = {a, b};
    oct_ref_broadcast_apply(c, 2, in, p->op == OCT_QADD ? add_row : mul_row, p);
}
