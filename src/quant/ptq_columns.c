/* Layers as matrix products: the geometry of Conv / Gemm / MatMul nodes, the
 * input columns AdaRound samples and the column means bias correction
 * needs (ptq_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/ref_nn.h"
#include "quant/ptq_internal.h"

static oct_status geom_conv(const oct_graph *g, const oct_node *n, ptq_geom *q, oct_error *err) {
    const oct_tensor *in[3] = {&g->values[n->in[0]].t, &g->values[n->in[1]].t,
                               n->n_in > 2 && n->in[2] >= 0 ? &g->values[n->in[2]].t : NULL};
    if (in[0]->ndim != 4 || in[1]->ndim != 4)
        return oct_fail(err, OCT_E_UNSUPPORTED, "node '%s': only 2-D convolutions (input rank %d)",
                        n->name, in[0]->ndim);
    oct_opctx c = {n, n->n_in > 3 ? 3 : n->n_in, in, 0, NULL, g->opset, 1, err};
    oct_conv_params p;
    OCT_TRY(oct_conv_params_get(&c, &p));
    q->kind = PTQ_CONV;
    q->G = (int)p.group;
    q->R = (int)(p.m / p.group);
    q->kh = p.w.kernel[0];
    q->kw = p.w.kernel[1];
    q->K = (int)(p.c / p.group * q->kh * q->kw);
    q->n = p.n;
    q->c = p.c;
    q->h = p.w.in[0];
    q->w = p.w.in[1];
    q->oh = p.w.out[0];
    q->ow = p.w.out[1];
    q->sh = p.w.stride[0];
    q->sw = p.w.stride[1];
    q->dh = p.w.dil[0];
    q->dw = p.w.dil[1];
    q->ph = p.w.pad_b[0];
    q->pw = p.w.pad_b[1];
    q->positions = q->n * q->oh * q->ow;
    return OCT_OK;
}

static oct_status geom_deconv(const oct_graph *g, const oct_node *n, ptq_geom *q, oct_error *err) {
    const oct_tensor *in[3] = {&g->values[n->in[0]].t, &g->values[n->in[1]].t,
                               n->n_in > 2 && n->in[2] >= 0 ? &g->values[n->in[2]].t : NULL};
    if (in[0]->ndim != 4 || in[1]->ndim != 4)
        return oct_fail(err, OCT_E_UNSUPPORTED, "node '%s': only 2-D transposed convolutions",
                        n->name);
    oct_opctx c = {n, n->n_in > 3 ? 3 : n->n_in, in, 0, NULL, g->opset, 1, err};
    oct_conv_params p;
    OCT_TRY(oct_conv_transpose_params_get(&c, &p));
    q->kind = PTQ_DECONV;
    q->G = (int)p.group;
    q->R = (int)in[1]->dims[1];
    q->kh = p.w.kernel[0];
    q->kw = p.w.kernel[1];
    q->K = (int)(p.c / p.group * q->kh * q->kw);
    q->n = p.n;
    q->c = p.c;
    q->h = p.w.in[0];
    q->w = p.w.in[1];
    q->oh = p.w.out[0];
    q->ow = p.w.out[1];
    q->sh = p.w.stride[0];
    q->sw = p.w.stride[1];
    q->dh = p.w.dil[0];
    q->dw = p.w.dil[1];
    q->ph = p.w.pad_b[0];
    q->pw = p.w.pad_b[1];
    q->positions = q->n * q->oh * q->ow;
    return OCT_OK;
}

oct_status ptq_geom_get(const oct_graph *g, int node, ptq_geom *q, oct_error *err) {
    const oct_node *n = &g->nodes[node];
    memset(q, 0, sizeof *q);
    if (n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0 || !g->values[n->in[1]].is_const)
        return oct_fail(err, OCT_E_UNSUPPORTED, "node '%s': its weight is not a constant", n->name);
    const oct_tensor *x = &g->values[n->in[0]].t, *w = &g->values[n->in[1]].t;
    if (x->dtype != OCT_FLOAT || w->dtype != OCT_FLOAT)
        return oct_fail(err, OCT_E_UNSUPPORTED, "node '%s': float32 input and weight expected",
                        n->name);
    if (!strcmp(n->op_type, "Conv")) return geom_conv(g, n, q, err);
    if (!strcmp(n->op_type, "ConvTranspose")) return geom_deconv(g, n, q, err);
    int gemm = !strcmp(n->op_type, "Gemm");
    if (!gemm && strcmp(n->op_type, "MatMul"))
        return oct_fail(err, OCT_E_UNSUPPORTED, "node '%s': %s is not a Conv, Gemm or MatMul",
                        n->name, n->op_type);
    if (w->ndim != 2 || x->ndim < 2)
        return oct_fail(err, OCT_E_UNSUPPORTED,
                        "node '%s': a 2-D weight and an input of rank >= 2 expected", n->name);
    if (gemm && (oct_attr_int(n, "transA", 0) || oct_attr_float(n, "alpha", 1.0f) != 1.0f ||
                 oct_attr_float(n, "beta", 1.0f) != 1.0f))
        return oct_fail(err, OCT_E_UNSUPPORTED,
                        "node '%s': Gemm with transA, alpha or beta is not taken", n->name);
    int tb = gemm && oct_attr_int(n, "transB", 0);
    q->kind = PTQ_ROWS;
    q->G = 1;
    q->K = (int)x->dims[x->ndim - 1];
    q->R = (int)(tb ? w->dims[0] : w->dims[1]);
    if ((tb ? w->dims[1] : w->dims[0]) != q->K)
        return oct_fail(err, OCT_E_SHAPE, "node '%s': weight does not match the input's %d columns",
                        n->name, q->K);
    q->positions = 1;
    for (int d = 0; d < x->ndim - 1; d++)
        q->positions *= x->dims[d];
    return OCT_OK;
}

static inline int64_t at(const ptq_geom *q, int nhwc, int64_t n, int64_t c, int64_t y, int64_t x) {
    return nhwc ? ((n * q->h + y) * q->w + x) * q->c + c : ((n * q->c + c) * q->h + y) * q->w + x;
}

/* The input coordinate a ConvTranspose tap reads for output o: i with
 * o = i*s - p + t, when it is a whole position inside [0, in); else -1. */
static int64_t deconv_src(int64_t o, int64_t s, int64_t p, int64_t t, int64_t in) {
    int64_t num = o + p - t;
    if (num < 0 || num % s) return -1;
    return num / s < in ? num / s : -1;
}

/* One ConvTranspose column (group g) at output (n, oy, ox), into col[k * ld]. */
static void deconv_column(const ptq_geom *q, const float *x, int nhwc, int64_t n, int64_t oy,
                          int64_t ox, int g, float *col, int64_t ld) {
    int64_t cpg = q->c / q->G;
    for (int64_t ci = 0; ci < cpg; ci++)
        for (int64_t ki = 0; ki < q->kh; ki++) {
            int64_t iy = deconv_src(oy, q->sh, q->ph, ki * q->dh, q->h);
            for (int64_t kj = 0; kj < q->kw; kj++) {
                int64_t ix = iy < 0 ? -1 : deconv_src(ox, q->sw, q->pw, kj * q->dw, q->w);
                col[((ci * q->kh + ki) * q->kw + kj) * ld] =
                    ix < 0 ? 0.0f : x[at(q, nhwc, n, g * cpg + ci, iy, ix)];
            }
        }
}

void ptq_gather(const ptq_geom *q, const float *x, int nhwc, const int64_t *pos, int P, float *dst,
                int64_t ld, int64_t col0) {
    if (q->kind == PTQ_DECONV) {
        int64_t hw = q->oh * q->ow;
        for (int j = 0; j < P; j++)
            for (int g = 0; g < q->G; g++)
                deconv_column(q, x, nhwc, pos[j] / hw, pos[j] % hw / q->ow, pos[j] % q->ow, g,
                              dst + (int64_t)g * q->K * ld + col0 + j, ld);
        return;
    }
    if (q->kind == PTQ_ROWS) {
        for (int j = 0; j < P; j++)
            for (int k = 0; k < q->K; k++)
                dst[(int64_t)k * ld + col0 + j] = x[pos[j] * q->K + k];
        return;
    }
    int64_t cpg = q->c / q->G, hw = q->oh * q->ow;
    for (int j = 0; j < P; j++) {
        int64_t n = pos[j] / hw, r = pos[j] % hw, oy = r / q->ow, ox = r % q->ow;
        for (int g = 0; g < q->G; g++)
            for (int64_t ci = 0; ci < cpg; ci++)
                for (int64_t ki = 0; ki < q->kh; ki++) {
                    int64_t iy = oy * q->sh - q->ph + ki * q->dh;
                    for (int64_t kj = 0; kj < q->kw; kj++) {
                        int64_t ix = ox * q->sw - q->pw + kj * q->dw;
                        int64_t k = (ci * q->kh + ki) * q->kw + kj;
                        int inside = iy >= 0 && iy < q->h && ix >= 0 && ix < q->w;
                        dst[((int64_t)g * q->K + k) * ld + col0 + j] =
                            inside ? x[at(q, nhwc, n, g * cpg + ci, iy, ix)] : 0.0f;
                    }
                }
    }
}

/* The outputs o in [0, out) whose tap lands inside [0, in): i = o*s - p + t. */
static void valid_range(int64_t out, int64_t in, int64_t s, int64_t p, int64_t t, int64_t *lo,
                        int64_t *hi) {
    int64_t off = t - p; /* i = o*s + off */
    int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t b = in - 1 - off < 0 ? -1 : (in - 1 - off) / s;
    *lo = a;
    *hi = b < out - 1 ? b : out - 1;
}

void ptq_column_sums(const ptq_geom *q, const float *x, int nhwc, double *acc) {
    if (q->kind == PTQ_DECONV) {
        /* every output position, one column at a time: transposed
         * convolutions are few and small next to the convolutions */
        float *col = malloc(sizeof(float) * (size_t)q->K);
        if (!col) return;
        for (int64_t n = 0; n < q->n; n++)
            for (int64_t oy = 0; oy < q->oh; oy++)
                for (int64_t ox = 0; ox < q->ow; ox++)
                    for (int g = 0; g < q->G; g++) {
                        deconv_column(q, x, nhwc, n, oy, ox, g, col, 1);
                        for (int k = 0; k < q->K; k++)
                            acc[(int64_t)g * q->K + k] += col[k];
                    }
        free(col);
        return;
    }
    if (q->kind == PTQ_ROWS) {
        for (int64_t r = 0; r < q->positions; r++)
            for (int k = 0; k < q->K; k++)
                acc[k] += x[r * q->K + k];
        return;
    }
    int64_t cpg = q->c / q->G;
    for (int64_t n = 0; n < q->n; n++)
        for (int64_t c = 0; c < q->c; c++) {
            int64_t g = c / cpg, ci = c % cpg;
            for (int64_t ki = 0; ki < q->kh; ki++) {
                int64_t y0, y1;
                valid_range(q->oh, q->h, q->sh, q->ph, ki * q->dh, &y0, &y1);
                for (int64_t kj = 0; kj < q->kw; kj++) {
                    int64_t x0, x1;
                    valid_range(q->ow, q->w, q->sw, q->pw, kj * q->dw, &x0, &x1);
                    double s = 0;
                    for (int64_t oy = y0; oy <= y1; oy++) {
                        int64_t iy = oy * q->sh - q->ph + ki * q->dh;
                        for (int64_t ox = x0; ox <= x1; ox++)
                            s += x[at(q, nhwc, n, c, iy, ox * q->sw - q->pw + kj * q->dw)];
                    }
                    acc[g * q->K + (ci * q->kh + ki) * q->kw + kj] += s;
                }
            }
        }
}

/* Row r = g*R + o, column k = (ci*kh + ki)*kw + kj of a ConvTranspose weight
 * [C_in, R, kh, kw]: input channel g*cpg + ci, output channel o of group g. */
static size_t deconv_index(const ptq_geom *q, int r, int k) {
    int64_t taps = q->kh * q->kw, cpg = q->c / q->G;
    int64_t g = r / q->R, o = r % q->R, ci = k / taps, t = k % taps;
    return (size_t)((((g * cpg + ci) * q->R + o) * taps) + t);
}

void ptq_weight_to_rows(ptq_wlayout lay, const ptq_geom *q, const float *w, float *out) {
    int rows = q->G * q->R, k = q->K;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < k; j++)
            out[(size_t)r * k + j] = lay == PTQ_W_KN       ? w[(size_t)j * rows + r]
                                     : lay == PTQ_W_DECONV ? w[deconv_index(q, r, j)]
                                                           : w[(size_t)r * k + j];
}

void ptq_rows_to_weight(ptq_wlayout lay, const ptq_geom *q, const float *rows_w, float *out) {
    int rows = q->G * q->R, k = q->K;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < k; j++) {
            size_t at = lay == PTQ_W_KN       ? (size_t)j * rows + r
                        : lay == PTQ_W_DECONV ? deconv_index(q, r, j)
                                              : (size_t)r * k + j;
            out[at] = rows_w[(size_t)r * k + j];
        }
}
