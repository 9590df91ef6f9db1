/* Reference N-D convolution: im2col over tiles of output positions, then a
 * plain GEMM whose innermost loop runs over contiguous output positions.
 * Tiles keep the column buffer near cache size, so the kernel stays usable
 * on whole models (yolov10n at 640x640 runs in seconds) while remaining
 * obviously correct. */
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/ref_nn.h"

/* Column buffer budget, in floats (256 KiB). */
#define COL_BUDGET (64 * 1024)

typedef struct conv_geom {
    int nsp;
    int64_t kvol;            /* kernel positions per input channel */
    int64_t pin, pout;       /* spatial volumes */
    int64_t cg, mg, kg;      /* channels per group in / out, GEMM depth */
} conv_geom;

/* col[k][t] = x at (channel, kernel offset) k for output position p0 + t,
 * zero where the window reaches into the padding. base holds, for each tile
 * position and axis, the input coordinate of the window's origin. */
static void im2col(const oct_nn_window *w, const conv_geom *g, const float *xg, int64_t p0,
                   int64_t t_n, int64_t *base, float *col) {
    int nsp = g->nsp;
    int64_t o[OCT_MAX_DIMS], rem = p0;
    for (int d = nsp - 1; d >= 0; d--) {
        o[d] = rem % w->out[d];
        rem /= w->out[d];
    }
    for (int64_t t = 0; t < t_n; t++) {
        for (int d = 0; d < nsp; d++) base[d * t_n + t] = o[d] * w->stride[d] - w->pad_b[d];
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
        const float *xc = xg + ch * g->pin;
        float *ck = col + k * t_n;
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
            ck[t] = inside ? xc[off] : 0.0f;
        }
    }
}

/* y[m][t] += sum_k wg[m][k] * col[k][t] for one tile (row strides ldc, ldy). */
static void gemm_tile(int64_t mg, int64_t kg, int64_t t_n, const float *wg, const float *col,
                      int64_t ldc, float *y, int64_t ldy) {
    for (int64_t m = 0; m < mg; m++) {
        float *ym = y + m * ldy;
        const float *wm = wg + m * kg;
        for (int64_t k = 0; k < kg; k++) {
            float wv = wm[k];
            const float *ck = col + k * ldc;
            for (int64_t t = 0; t < t_n; t++) ym[t] += wv * ck[t];
        }
    }
}

oct_status oct_ref_conv_f32(const oct_conv_params *p, const float *x, const float *w,
                            const float *b, float *y) {
    const oct_nn_window *win = &p->w;
    conv_geom g;
    g.nsp = win->nsp;
    g.kvol = oct_shape_numel(win->nsp, win->kernel);
    g.pin = oct_shape_numel(win->nsp, win->in);
    g.pout = oct_shape_numel(win->nsp, win->out);
    g.cg = p->c / p->group;
    g.mg = p->m / p->group;
    g.kg = g.cg * g.kvol;
    /* A 1x1 kernel with unit strides and no padding reads X as it is. */
    int direct = g.kvol == 1;
    for (int d = 0; d < win->nsp; d++)
        if (win->stride[d] != 1 || win->pad_b[d] || win->pad_e[d]) direct = 0;

    int64_t tile = g.pout;
    float *col = NULL;
    int64_t *base = NULL;
    if (!direct && g.pout > 0 && g.kg > 0) {
        tile = COL_BUDGET / g.kg;
        if (tile < 16) tile = 16;
        if (tile > g.pout) tile = g.pout;
        col = malloc((size_t)(g.kg * tile) * sizeof *col);
        base = malloc((size_t)(win->nsp * tile) * sizeof *base);
        if (!col || !base) {
            free(col);
            free(base);
            return OCT_E_NOMEM;
        }
    }
    for (int64_t n = 0; n < p->n; n++) {
        for (int64_t gi = 0; gi < p->group; gi++) {
            const float *xg = x + (n * p->c + gi * g.cg) * g.pin;
            const float *wg = w + gi * g.mg * g.kg;
            float *yg = y + (n * p->m + gi * g.mg) * g.pout;
            for (int64_t m = 0; m < g.mg; m++) {
                float bv = b ? b[gi * g.mg + m] : 0.0f;
                for (int64_t t = 0; t < g.pout; t++) yg[m * g.pout + t] = bv;
            }
            if (g.kg == 0) continue;
            if (direct) {
                gemm_tile(g.mg, g.kg, g.pout, wg, xg, g.pin, yg, g.pout);
                continue;
            }
            for (int64_t p0 = 0; p0 < g.pout; p0 += tile) {
                int64_t t_n = g.pout - p0 < tile ? g.pout - p0 : tile;
                im2col(win, &g, xg, p0, t_n, base, col);
                gemm_tile(g.mg, g.kg, t_n, wg, col, t_n, yg + p0, g.pout);
            }
        }
    }
    free(col);
    free(base);
    return OCT_OK;
}
