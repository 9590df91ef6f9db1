/* Integer N-D convolution (ConvInteger, QLinearConv): im2col of x - x_zp
 * over tiles of output positions into int16, then a plain GEMM with the
 * int16 weights w - w_zp accumulating in int32. Both factors lie in
 * [-255, 255], so every product and the int32 sums are exact. */
#include <stdlib.h>

#include "kernels/ref/ref_quant.h"

/* Column buffer budget, in int16 elements (256 KiB). */
#define COL_BUDGET (128 * 1024)

typedef struct qgeom {
    int nsp;
    int64_t kvol, pin, pout, cg, mg, kg;
} qgeom;

/* col[k][t] = xg (x - x_zp) at (channel, kernel offset) k for output
 * position p0 + t, 0 where the window reaches into the padding. */
static void im2col(const oct_nn_window *w, const qgeom *g, const int16_t *xg, int64_t p0,
                   int64_t t_n, int64_t *base, int16_t *col) {
    int nsp = g->nsp;
    int64_t o[OCT_MAX_DIMS], rem = p0;
    for (int d = nsp - 1; d >= 0; d--) {
        o[d] = rem % w->out[d];
        rem /= w->out[d];
    }
    for (int64_t t = 0; t < t_n; t++) {
        for (int d = 0; d < nsp; d++)
            base[d * t_n + t] = o[d] * w->stride[d] - w->pad_b[d];
        for (int d = nsp - 1; d >= 0; d--) {
            if (++o[d] < w->out[d]) break;
            o[d] = 0;
        }
    }
    for (int64_t k = 0; k < g->kg; k++) {
        int64_t ch = k / g->kvol, kr = k % g->kvol, koff[OCT_MAX_DIMS];
        for (int d = nsp - 1; d >= 0; d--) {
            koff[d] = (kr % w->kernel[d]) * w->dil[d];
            kr /= w->kernel[d];
        }
        const int16_t *xc = xg + ch * g->pin;
        int16_t *ck = col + k * t_n;
        for (int64_t t = 0; t < t_n; t++) {
            int64_t off = 0;
            int inside = 1;
            for (int d = 0; d < nsp; d++) {
                int64_t i = base[d * t_n + t] + koff[d];
                if (i < 0 || i >= w->in[d]) {
                    inside = 0;
                    break;
                }
                off = off * w->in[d] + i;
            }
            ck[t] = inside ? xc[off] : 0;
        }
    }
}

/* y[m][t] += sum_k wg[m][k] * col[k][t] for one tile (row strides t_n, ldy).
 * The sums wrap modulo 2^32 instead of overflowing (only a reduction over
 * more than 33000 terms can leave int32, where ONNX Runtime wraps too). */
static void gemm_tile(int64_t mg, int64_t kg, int64_t t_n, const int16_t *wg, const int16_t *col,
                      int32_t *y, int64_t ldy) {
    for (int64_t m = 0; m < mg; m++) {
        uint32_t *ym = (uint32_t *)(y + m * ldy);
        const int16_t *wm = wg + m * kg;
        for (int64_t k = 0; k < kg; k++) {
            int32_t wv = wm[k];
            const int16_t *ck = col + k * t_n;
            for (int64_t t = 0; t < t_n; t++)
                ym[t] += (uint32_t)(wv * ck[t]);
        }
    }
}

oct_status oct_ref_conv_integer(const oct_conv_params *p, const oct_tensor *x, int32_t x_zp,
                                const oct_tensor *w, const int32_t *w_zp, int32_t *acc) {
    const oct_nn_window *win = &p->w;
    qgeom g;
    g.nsp = win->nsp;
    g.kvol = oct_shape_numel(win->nsp, win->kernel);
    g.pin = oct_shape_numel(win->nsp, win->in);
    g.pout = oct_shape_numel(win->nsp, win->out);
    g.cg = p->c / p->group;
    g.mg = p->m / p->group;
    g.kg = g.cg * g.kvol;
    int64_t nacc = p->n * p->m * g.pout;
    for (int64_t i = 0; i < nacc; i++)
        acc[i] = 0;
    if (g.pout <= 0 || g.kg <= 0 || p->n <= 0 || p->m <= 0) return OCT_OK;

    int64_t tile = COL_BUDGET / g.kg;
    if (tile < 16) tile = 16;
    if (tile > g.pout) tile = g.pout;
    int64_t nx = p->n * p->c * g.pin;
    int16_t *xq = malloc((size_t)nx * sizeof *xq + 1);
    int16_t *wq = malloc((size_t)(p->m * g.kg) * sizeof *wq);
    int16_t *col = malloc((size_t)(g.kg * tile) * sizeof *col);
    int64_t *base = malloc((size_t)(win->nsp * tile) * sizeof *base);
    oct_status st = OCT_E_NOMEM;
    if (xq && wq && col && base) {
        for (int64_t i = 0; i < nx; i++)
            xq[i] = (int16_t)(oct_q_get(x->data, x->dtype, i) - x_zp);
        for (int64_t m = 0; m < p->m; m++)
            for (int64_t k = 0; k < g.kg; k++)
                wq[m * g.kg + k] = (int16_t)(oct_q_get(w->data, w->dtype, m * g.kg + k) - w_zp[m]);
        for (int64_t n = 0; n < p->n; n++)
            for (int64_t gi = 0; gi < p->group; gi++) {
                const int16_t *xg = xq + (n * p->c + gi * g.cg) * g.pin;
                const int16_t *wg = wq + gi * g.mg * g.kg;
                int32_t *yg = acc + (n * p->m + gi * g.mg) * g.pout;
                for (int64_t p0 = 0; p0 < g.pout; p0 += tile) {
                    int64_t t_n = g.pout - p0 < tile ? g.pout - p0 : tile;
                    im2col(win, &g, xg, p0, t_n, base, col);
                    gemm_tile(g.mg, g.kg, t_n, wg, col, yg + p0, g.pout);
                }
            }
        st = OCT_OK;
    }
    free(xq);
    free(wq);
    free(col);
    free(base);
    return st;
}
