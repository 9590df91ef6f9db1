/* com.microsoft QLinearGlobalAveragePool and QLinearAveragePool, in NCHW
 * or channels-last layout, following ONNX Runtime's CPU kernels. */
#include "kernels/ref/ref_quant.h"

/* Element (n, c, spatial offset s) of a tensor with `sp` spatial positions. */
static int64_t at(const oct_qpool_params *p, int64_t n, int64_t c, int64_t s, int64_t sp) {
    return p->channels_last ? (n * sp + s) * p->c + c : (n * p->c + c) * sp + s;
}

void oct_ref_qlinear_global_avgpool(const oct_qpool_params *p, const void *x, void *y) {
    int64_t size = oct_shape_numel(p->w.nsp, p->w.in);
    int32_t lo, hi;
    oct_q_range(p->dt, &lo, &hi);
    float scale = p->x_scale / (p->y_scale * (float)size);
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t c = 0; c < p->c; c++) {
            int64_t acc = -(int64_t)p->x_zp * size;
            for (int64_t s = 0; s < size; s++)
                acc += oct_q_get(x, p->dt, at(p, n, c, s, size));
            int32_t a32 = oct_sat_i32((double)acc, INT32_MIN, INT32_MAX);
            oct_q_set(y, p->dt, at(p, n, c, 0, 1), oct_q_requant(a32, scale, p->y_zp, lo, hi));
        }
}

void oct_ref_qlinear_avgpool(const oct_qpool_params *p, const void *x, void *y) {
    const oct_nn_window *w = &p->w;
    int nsp = w->nsp, global = 1;
    for (int d = 0; d < nsp; d++)
        if (w->kernel[d] != w->in[d] || w->pad_b[d] || w->pad_e[d]) global = 0;
    if (global) {
        oct_ref_qlinear_global_avgpool(p, x, y);
        return;
    }
    int32_t lo, hi;
    oct_q_range(p->dt, &lo, &hi);
    int64_t sin = oct_shape_numel(nsp, w->in), sout = oct_shape_numel(nsp, w->out);
    int64_t kvol = oct_shape_numel(nsp, w->kernel);
    float yzp = (float)p->y_zp;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t c = 0; c < p->c; c++)
            for (int64_t o = 0; o < sout; o++) {
                /* the window [b, e) per axis, clipped to the input */
                int64_t b[OCT_MAX_DIMS], e[OCT_MAX_DIMS], rem = o, count = 1;
                for (int d = nsp - 1; d >= 0; d--) {
                    int64_t od = rem % w->out[d];
                    rem /= w->out[d];
                    b[d] = od * w->stride[d] - w->pad_b[d];
                    e[d] = b[d] + w->kernel[d] < w->in[d] ? b[d] + w->kernel[d] : w->in[d];
                    if (b[d] < 0) b[d] = 0;
                    count *= e[d] > b[d] ? e[d] - b[d] : 0;
                }
                float sum = 0.0f;
                if (count > 0) {
                    int64_t i[OCT_MAX_DIMS];
                    for (int d = 0; d < nsp; d++)
                        i[d] = b[d];
                    for (;;) { /* row-major over the window */
                        int64_t s = 0;
                        for (int d = 0; d < nsp; d++)
                            s = s * w->in[d] + i[d];
                        int32_t q = oct_q_get(x, p->dt, at(p, n, c, s, sin));
                        /* two statements: no fused multiply-add (ORT stores
                         * the dequantized value first) */
                        float v = p->x_scale * (float)(q - p->x_zp);
                        sum += v;
                        int d = nsp - 1;
                        while (d >= 0 && ++i[d] == e[d]) {
                            i[d] = b[d];
                            d--;
                        }
                        if (d < 0) break;
                    }
                }
                float avg = sum / (float)(p->count_include_pad ? kvol : count);
                int32_t v = oct_sat_i32(oct_round_half_even(avg / p->y_scale + yzp), lo, hi);
                oct_q_set(y, p->dt, at(p, n, c, o, sout), v);
            }
}
