/* Reference N-D transposed convolution, as the scatter it is defined by:
 * every input element times every kernel tap lands on output position
 * i * stride - pad_begin + k * dilation (when inside the output). */
#include "kernels/ref/ref_nn.h"

/* Adds wv * xc[i] to yc at i * s + koff along the last axis, for the input
 * indices whose target falls inside [0, out). */
static void scatter_row(const float *xc, int64_t in, int64_t s, int64_t koff, int64_t out,
                        float wv, float *yc) {
    /* first i with i * s + koff >= 0, last with i * s + koff <= out - 1 */
    int64_t lo = koff >= 0 ? 0 : (-koff + s - 1) / s;
    int64_t hi = out - 1 - koff < 0 ? -1 : (out - 1 - koff) / s;
    if (hi > in - 1) hi = in - 1;
    for (int64_t i = lo; i <= hi; i++) yc[i * s + koff] += wv * xc[i];
}

void oct_ref_conv_transpose_f32(const oct_conv_params *p, const float *x, const float *w,
                                const float *b, float *y) {
    const oct_nn_window *win = &p->w;
    int nsp = win->nsp, last = nsp - 1;
    int64_t kvol = oct_shape_numel(nsp, win->kernel);
    int64_t pin = oct_shape_numel(nsp, win->in), pout = oct_shape_numel(nsp, win->out);
    int64_t cg = p->c / p->group, mg = p->m / p->group;
    int64_t rows = pin / (win->in[last] ? win->in[last] : 1); /* input positions but the last axis */
    int64_t ostr[OCT_MAX_DIMS];
    oct_strides(nsp, win->out, ostr);

    for (int64_t n = 0; n < p->n; n++)
        for (int64_t m = 0; m < p->m; m++) {
            float *ym = y + (n * p->m + m) * pout;
            float bv = b ? b[m] : 0.0f;
            for (int64_t t = 0; t < pout; t++) ym[t] = bv;
        }
    if (pin == 0) return;

    for (int64_t n = 0; n < p->n; n++)
        for (int64_t gi = 0; gi < p->group; gi++)
            for (int64_t ci = 0; ci < cg; ci++) {
                int64_t ch = gi * cg + ci;
                const float *xc = x + (n * p->c + ch) * pin;
                for (int64_t mi = 0; mi < mg; mi++) {
                    const float *wk = w + (ch * mg + mi) * kvol;
                    float *ym = y + (n * p->m + gi * mg + mi) * pout;
                    for (int64_t kidx = 0; kidx < kvol; kidx++) {
                        int64_t koff[OCT_MAX_DIMS], kr = kidx;
                        for (int d = last; d >= 0; d--) {
                            koff[d] = (kr % win->kernel[d]) * win->dil[d] - win->pad_b[d];
                            kr /= win->kernel[d];
                        }
                        float wv = wk[kidx];
                        /* walk the input rows (all axes but the last) */
                        int64_t ic[OCT_MAX_DIMS] = {0};
                        for (int64_t r = 0; r < rows; r++) {
                            int64_t off = 0;
                            int inside = 1;
                            for (int d = 0; d < last; d++) {
                                int64_t o = ic[d] * win->stride[d] + koff[d];
                                if (o < 0 || o >= win->out[d]) {
                                    inside = 0;
                                    break;
                                }
                                off += o * ostr[d];
                            }
                            if (inside)
                                scatter_row(xc + r * win->in[last], win->in[last], win->stride[last],
                                            koff[last], win->out[last], wv, ym + off);
                            for (int d = last - 1; d >= 0; d--) {
                                if (++ic[d] < win->in[d]) break;
                                ic[d] = 0;
                            }
                        }
                    }
                }
            }
}
