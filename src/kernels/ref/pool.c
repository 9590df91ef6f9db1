/* Reference N-D pools. A window position is an input element, a padding
 * element (inside pads: counted by AveragePool with count_include_pad), or
 * beyond the padding (ceil_mode's overhang: never counted), as in ONNX
 * Runtime. Per axis each kind forms one range of taps, so a window costs
 * its input elements only, however large the kernel or the pads. */
#include "kernels/ref/ref_nn.h"

/* Kernel taps j in [0, k) with lo <= start + j * dil < hi form one range. */
static void tap_range(int64_t start, int64_t k, int64_t dil, int64_t lo, int64_t hi, int64_t *j0,
                      int64_t *j1) {
    *j0 = start >= lo ? 0 : (lo - start + dil - 1) / dil;
    *j1 = hi - 1 - start < 0 ? -1 : (hi - 1 - start) / dil;
    if (*j1 > k - 1) *j1 = k - 1;
}

void oct_ref_pool(const oct_pool_params *p, const double *x, double *y, int64_t *idx) {
    const oct_nn_window *w = &p->w;
    int nsp = w->nsp;
    int64_t pin = oct_shape_numel(nsp, w->in), pout = oct_shape_numel(nsp, w->out);
    int64_t cstr[OCT_MAX_DIMS], rstr[OCT_MAX_DIMS]; /* column- and row-major strides */
    int64_t s = 1;
    for (int d = 0; d < nsp; d++) {
        cstr[d] = s;
        s *= w->in[d];
    }
    oct_strides(nsp, w->in, rstr);
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const double *xb = x + nc * pin;
        int64_t o[OCT_MAX_DIMS] = {0};
        for (int64_t op = 0; op < pout; op++) {
            /* per axis: the taps on the input, and how many lie inside the pads */
            int64_t start[OCT_MAX_DIMS], j0[OCT_MAX_DIMS], j1[OCT_MAX_DIMS];
            int64_t n_in = 1, n_pad = 1;
            for (int d = 0; d < nsp; d++) {
                int64_t a, b;
                start[d] = o[d] * w->stride[d] - w->pad_b[d];
                tap_range(start[d], w->kernel[d], w->dil[d], 0, w->in[d], &j0[d], &j1[d]);
                tap_range(start[d], w->kernel[d], w->dil[d], -w->pad_b[d], w->in[d] + w->pad_e[d], &a, &b);
                n_in *= j1[d] >= j0[d] ? j1[d] - j0[d] + 1 : 0;
                n_pad *= b >= a ? b - a + 1 : 0;
            }
            double acc = p->kind == OCT_POOL_MAX ? p->lowest : 0.0;
            int64_t best = -1, j[OCT_MAX_DIMS];
            for (int d = 0; d < nsp; d++) j[d] = j0[d];
            for (int64_t t = 0; t < n_in; t++) {
                int64_t off = 0, coff = 0;
                for (int d = 0; d < nsp; d++) {
                    int64_t i = start[d] + j[d] * w->dil[d];
                    off += i * rstr[d];
                    coff += i * cstr[d];
                }
                double v = xb[off];
                if (p->kind == OCT_POOL_AVG) {
                    acc += v;
                } else if (best < 0 || v > acc) { /* the first maximum wins, as in ONNX Runtime */
                    acc = v;
                    best = p->storage_order ? coff : off;
                }
                for (int d = nsp - 1; d >= 0; d--) {
                    if (++j[d] <= j1[d]) break;
                    j[d] = j0[d];
                }
            }
            if (p->kind == OCT_POOL_AVG) {
                int64_t cnt = p->count_include_pad ? n_pad : n_in;
                acc = cnt ? acc / (double)cnt : 0.0;
            }
            y[nc * pout + op] = acc;
            if (idx) idx[nc * pout + op] = best < 0 ? -1 : nc * pin + best;
            for (int d = nsp - 1; d >= 0; d--) {
                if (++o[d] < w->out[d]) break;
                o[d] = 0;
            }
        }
    }
}

void oct_ref_global_pool(oct_pool_kind kind, int64_t outer, int64_t inner, const double *x,
                         double *y) {
    for (int64_t i = 0; i < outer; i++) {
        const double *r = x + i * inner;
        double acc = 0.0;
        if (kind == OCT_POOL_MAX) {
            acc = inner > 0 ? r[0] : 0.0;
            for (int64_t j = 1; j < inner; j++)
                if (r[j] > acc) acc = r[j];
        } else {
            for (int64_t j = 0; j < inner; j++) acc += r[j];
            acc = inner > 0 ? acc / (double)inner : 0.0;
        }
        y[i] = acc;
    }
}
