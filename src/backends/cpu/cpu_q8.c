/* The "q8" backend: MaxPool, Concat, Split, nearest Resize / Upsample and
 * Add on int8 codes (OCT_LAYOUT_NHWC_Q8), so an INT8 tensor stays int8
 * between INT8 nodes and is converted only at precision boundaries. Tried
 * first in INT8 sessions (runtime/exec.c); it takes a node only where it
 * saves a conversion (an input already arrives as codes, or the output can
 * leave as codes) and otherwise declines, leaving the float kernels.
 *
 * Every number is the simulation's (quant/simulate.c), bit for bit. A code
 * q of a tensor with scale s stands for the float (float)q * s the
 * simulation holds; an INT8 output with scale s_out is that float's fake
 * quantization, code = oct_fake_quant_code(x / s_out), so:
 *   - MaxPool: max commutes with the monotonic q -> (float)q * s_in and
 *     with the monotonic requantization: out = requant(max of the codes);
 *   - Concat, Split, Resize: selection, then requant (a copy when the
 *     scales are equal: (q * s) / s rounds back to q for |q| <= 128);
 *   - Add: the simulation adds the two floats, then fake-quantizes: the same
 *     float operations here, one rounding.
 * requant is oct_requant_s8 (core/arith.h). Concat and Split also take
 * float inputs that are not INT8 (a compute-only plan quantizes a Concat's
 * output, not its parts): they write such an input's fake quantization,
 * or its code, the numbers the observer or the runtime's conversion would
 * make.
 *
 * An output is written as codes when it is an INT8 plan tensor and every
 * reader takes codes (oct_q8_output); otherwise as float channels-last: the
 * fake-quantized value (code * s_out, so the observer need not pass over
 * it) or, for an output that is not INT8, the float result. */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_q8.h"
#include "core/arith.h"
#include "kernels/ref/ref_nn.h"
#include "ops/op.h"
#include "runtime/exec.h"

enum { Q8_NONE, Q8_MAXPOOL, Q8_CONCAT, Q8_SPLIT, Q8_RESIZE, Q8_ADD };

/* What the q8 backend needs to know about a node it can run. */
typedef struct {
    int op;
    int n_data;           /* inputs read as codes: in[0 .. n_data) */
    oct_pool_params pool; /* MaxPool */
    int64_t *iy, *ix;     /* Resize: source row / column per output one */
} q8_node;

/* Source indices of a nearest Resize along axis d, from the reference
 * kernel run on a tensor that holds its own indices (as the float kernel,
 * backends/cpu/cpu_resize.c, builds them), so the selection is exactly the
 * one the simulation makes. 0 when it is not a pure gather. */
static int resize_table(const oct_resize_params *p, int d, int64_t *out) {
    oct_resize_params q = *p;
    for (int i = 0; i < q.ndim; i++)
        if (i != d) {
            q.in[i] = q.out[i] = 1;
            q.scale[i] = 1.0f;
        }
    double *xi = malloc(sizeof(double) * (size_t)(p->in[d] + 1)),
           *yo = malloc(sizeof(double) * (size_t)(p->out[d] + 1));
    int ok = xi && yo;
    if (ok) {
        for (int64_t i = 0; i < p->in[d]; i++)
            xi[i] = (double)i;
        ok = oct_ref_resize(&q, xi, yo) == OCT_OK;
    }
    for (int64_t o = 0; ok && o < p->out[d]; o++) {
        out[o] = (int64_t)yo[o];
        if ((double)out[o] != yo[o] || out[o] < 0 || out[o] >= p->in[d]) ok = 0;
    }
    free(xi);
    free(yo);
    return ok;
}

static int resize_applies(const oct_graph *g, const oct_node *n, q8_node *qn) {
    const oct_tensor *X = &g->values[n->in[0]].t, *Y = &g->values[n->out[0]].t;
    if (X->dims[0] != Y->dims[0] || X->dims[1] != Y->dims[1]) return 0;
    for (int i = 1; i < n->n_in; i++) /* roi, scales, sizes must be constants */
        if (n->in[i] >= 0 && (n->in[i] == n->in[0] || !g->values[n->in[i]].is_const)) return 0;
    /* the parameters of the float tensor the simulation resizes (the value
     * may be stored as codes by now) */
    oct_tensor xf = *X, yf = *Y;
    xf.dtype = yf.dtype = OCT_FLOAT;
    const oct_tensor *ins[8] = {0};
    oct_tensor *outs[1] = {&yf};
    for (int i = 0; i < n->n_in && i < 8; i++)
        ins[i] = i == 0 ? &xf : n->in[i] >= 0 ? &g->values[n->in[i]].t : NULL;
    oct_opctx c = {n, n->n_in < 8 ? n->n_in : 8, ins, 1, outs, n->opset, 1, NULL};
    oct_resize_params p;
    int upsample = !strcmp(n->op_type, "Upsample");
    if ((upsample ? oct_upsample_params_get(&c, &p) : oct_resize_params_get(&c, &p)) != OCT_OK)
        return 0;
    if (p.mode != OCT_RESIZE_NEAREST || p.ndim != 4 || p.coord == OCT_COORD_TF_CROP_AND_RESIZE)
        return 0;
    if (p.out[2] != Y->dims[2] || p.out[3] != Y->dims[3]) return 0;
    qn->iy = malloc(sizeof(int64_t) * (size_t)(Y->dims[2] + 1));
    qn->ix = malloc(sizeof(int64_t) * (size_t)(Y->dims[3] + 1));
    return qn->iy && qn->ix && resize_table(&p, 2, qn->iy) && resize_table(&p, 3, qn->ix);
}

/* Valid kernel taps [*lo, *hi) of the window of output o along one axis:
 * input o * stride - pad + k * dil within [0, in). */
static void pool_taps(const oct_nn_window *w, int a, int64_t o, int64_t *lo, int64_t *hi) {
    int64_t base = o * w->stride[a] - w->pad_b[a];
    *lo = *hi = 0;
    for (int64_t k = 0; k < w->kernel[a]; k++) {
        int64_t i = base + k * w->dil[a];
        if (i < 0) *lo = k + 1;
        if (i >= 0 && i < w->in[a]) *hi = k + 1;
    }
}

static int maxpool_applies(const oct_graph *g, const oct_node *n, q8_node *qn) {
    const oct_tensor *X = &g->values[n->in[0]].t, *Y = &g->values[n->out[0]].t;
    oct_tensor xf = *X;
    xf.dtype = OCT_FLOAT;
    const oct_tensor *ins[1] = {&xf};
    oct_opctx c = {n, 1, ins, 0, NULL, n->opset, 1, NULL};
    if (oct_pool_params_get(&c, OCT_POOL_MAX, &qn->pool) != OCT_OK) return 0;
    const oct_nn_window *w = &qn->pool.w;
    if (w->nsp != 2 || qn->pool.n != Y->dims[0] || qn->pool.c != Y->dims[1] ||
        w->out[0] != Y->dims[2] || w->out[1] != Y->dims[3])
        return 0;
    for (int a = 0; a < 2; a++) {
        if (w->kernel[a] < 1 || w->stride[a] < 1 || w->dil[a] < 1) return 0;
        /* a window with no input (ceil_mode past the padding) would be the
         * float lowest, which has no code */
        for (int64_t o = 0; o < w->out[a]; o++) {
            int64_t lo, hi;
            pool_taps(w, a, o, &lo, &hi);
            if (lo >= hi) return 0;
        }
    }
    return 1;
}

/* The axis-1 (channel) parts of a Concat's inputs or a Split's outputs add
 * up to the whole, and agree with it on N, H, W. */
static int channel_parts(const oct_graph *g, const oct_node *n, int split) {
    int64_t axis = oct_attr_int(n, "axis", split ? 0 : 1);
    if (axis < 0) axis += 4;
    if (axis != 1) return 0;
    const oct_tensor *w = &g->values[split ? n->in[0] : n->out[0]].t;
    int parts = split ? n->n_out : n->n_in;
    int64_t sum = 0;
    for (int p = 0; p < parts; p++) {
        const oct_tensor *t = &g->values[split ? n->out[p] : n->in[p]].t;
        if (t->dims[0] != w->dims[0] || t->dims[2] != w->dims[2] || t->dims[3] != w->dims[3])
            return 0;
        sum += t->dims[1];
    }
    return sum == w->dims[1];
}

static int is_4d(const oct_graph *g, int v) {
    return v >= 0 && g->values[v].shape_known && g->values[v].t.ndim == 4;
}

/* The one predicate: the op of node `node` when the q8 backend can run it
 * with every INT8 input as codes (shapes, attributes, scales; nothing
 * about layouts, which the producers have not all decided yet), else
 * Q8_NONE. qn (may be NULL) receives what the kernel needs; the caller
 * frees qn->iy and qn->ix. */
static int q8_applies(const oct_exec *x, int node, q8_node *qn) {
    q8_node local;
    q8_node *q = qn ? qn : &local;
    memset(q, 0, sizeof *q);
    const oct_graph *g = x->g;
    if (!x->int8 || node < 0 || node >= g->n_nodes) return Q8_NONE;
    const oct_node *n = &g->nodes[node];
    if (n->dead || n->dynamic || n->domain[0]) return Q8_NONE;
    const char *t = n->op_type;
    int op = !strcmp(t, "MaxPool")                            ? Q8_MAXPOOL
             : !strcmp(t, "Concat")                           ? Q8_CONCAT
             : !strcmp(t, "Split")                            ? Q8_SPLIT
             : !strcmp(t, "Resize") || !strcmp(t, "Upsample") ? Q8_RESIZE
             : !strcmp(t, "Add")                              ? Q8_ADD
                                                              : Q8_NONE;
    if (!op) return Q8_NONE;
    int n_data = op == Q8_CONCAT || op == Q8_ADD ? n->n_in : 1;
    if (n_data < 1 || n_data > OCT_KERNEL_MAX_IN || (op == Q8_ADD && n_data != 2)) return Q8_NONE;
    /* Concat and Split also take float inputs that are not INT8 (a
     * compute-only plan quantizes a Concat's output, not its inputs): they
     * quantize them into an INT8 output. The other ops read codes only. */
    int float_ok = op == Q8_CONCAT || op == Q8_SPLIT;
    for (int i = 0; i < n_data; i++) {
        int v = n->in[i];
        if (!is_4d(g, v)) return Q8_NONE;
        if (!(oct_exec_act_scale(x, v) > 0) && (!float_ok || g->values[v].t.dtype != OCT_FLOAT))
            return Q8_NONE;
    }
    /* MaxPool's Indices output is not computed here */
    int n_out = op == Q8_SPLIT ? n->n_out : 1;
    if (n_out < 1 || n_out > OCT_KERNEL_MAX_OUT || n->n_out < n_out) return Q8_NONE;
    for (int o = 0; o < n->n_out; o++)
        if (o < n_out ? !is_4d(g, n->out[o]) : n->out[o] >= 0) return Q8_NONE;
    q->n_data = n_data;
    int ok = 0;
    switch (op) {
    case Q8_MAXPOOL: ok = maxpool_applies(g, n, q); break;
    case Q8_CONCAT: ok = channel_parts(g, n, 0); break;
    case Q8_SPLIT: ok = channel_parts(g, n, 1); break;
    case Q8_RESIZE: ok = resize_applies(g, n, q); break;
    default: { /* Add: same shapes, no broadcasting */
        const oct_tensor *a = &g->values[n->in[0]].t, *b = &g->values[n->in[1]].t,
                         *y = &g->values[n->out[0]].t;
        ok = !memcmp(a->dims, b->dims, 4 * sizeof a->dims[0]) &&
             !memcmp(a->dims, y->dims, 4 * sizeof a->dims[0]);
    }
    }
    if (!ok || !qn) {
        free(q->iy);
        free(q->ix);
        q->iy = q->ix = NULL;
    }
    q->op = ok ? op : Q8_NONE;
    return q->op;
}

int oct_q8_reads_codes(const oct_exec *x, int node, int v) {
#ifdef OCT_HAVE_DNNL
    if (oct_dnnl_int8_conv_reader(x, node, v)) return 1;
#endif
    q8_node qn;
    if (!q8_applies(x, node, &qn)) return 0;
    int reads = 0;
    for (int i = 0; i < qn.n_data; i++)
        reads |= x->g->nodes[node].in[i] == v;
    free(qn.iy);
    free(qn.ix);
    return reads; /* v only among the constant inputs of a Resize: no */
}

int oct_q8_output(const oct_exec *x, int v) {
    const oct_graph *g = x->g;
    if (!x->int8 || v < 0 || v >= g->n_values || !(oct_exec_act_scale(x, v) > 0)) return 0;
    const oct_value *val = &g->values[v];
    if (val->is_output || val->t.ndim != 4 || val->t.dtype != OCT_FLOAT) return 0;
    int readers = 0;
    for (int c = 0; c < g->n_nodes; c++) {
        const oct_node *n = &g->nodes[c];
        if (n->dead) continue;
        int reads = 0;
        for (int i = 0; i < n->n_in; i++)
            reads |= n->in[i] == v;
        if (!reads) continue;
        if (!oct_q8_reads_codes(x, c, v)) return 0;
        readers++;
    }
    return readers > 0;
}

/* ---- the kernels ------------------------------------------------------------ */

/* How a stream of input elements (codes under one scale, or floats of a
 * tensor that is not INT8) is written to the output. Every mode is plain
 * arithmetic on one element, so the loops vectorize. */
enum { EMIT_COPY, EMIT_REQ8, EMIT_DEQ, EMIT_REQF, EMIT_FCOPY, EMIT_FQ, EMIT_FQ8 };
typedef struct {
    int mode;
    float s_in, s_out;
} q8_emit;

/* s_in: the input's scale (0: float, not INT8); s_out: the output's (0:
 * not INT8); codes_out: the output is written as codes. Equal scales need
 * no requantization (oct_requant_s8 is then the identity). */
static void emit_init(q8_emit *e, float s_in, float s_out, int codes_out) {
    e->s_in = s_in;
    e->s_out = s_out;
    if (!(s_in > 0))
        e->mode = codes_out ? EMIT_FQ8 : s_out > 0 ? EMIT_FQ : EMIT_FCOPY;
    else if (codes_out)
        e->mode = s_in == s_out ? EMIT_COPY : EMIT_REQ8;
    else
        e->mode = s_out > 0 && s_in != s_out ? EMIT_REQF : EMIT_DEQ;
}

/* n elements from element `from` of the input (codes, or floats for the
 * float-input modes) to element `at` of the output (codes or floats): the
 * float the simulation holds after the node, or its code. */
static void emit(const q8_emit *e, const void *in, int64_t from, void *out, int64_t at, int64_t n) {
    const int8_t *restrict q = (const int8_t *)in + from;
    const float *restrict f = (const float *)in + from;
    int8_t *restrict d8 = (int8_t *)out + at;
    float *restrict d = (float *)out + at;
    float si = e->s_in, so = e->s_out;
    switch (e->mode) {
    case EMIT_COPY: memcpy(d8, q, (size_t)n); break;
    case EMIT_REQ8:
        for (int64_t i = 0; i < n; i++)
            d8[i] = oct_requant_s8(q[i], si, so);
        break;
    case EMIT_DEQ: /* the value itself: not INT8 out, or the same scale */
        for (int64_t i = 0; i < n; i++)
            d[i] = (float)q[i] * si;
        break;
    case EMIT_REQF:
        for (int64_t i = 0; i < n; i++)
            d[i] = (float)oct_requant_s8(q[i], si, so) * so;
        break;
    case EMIT_FCOPY: memcpy(d, f, sizeof(float) * (size_t)n); break;
    case EMIT_FQ: /* the observer's oct_fake_quant_s8 */
        for (int64_t i = 0; i < n; i++)
            d[i] = oct_fake_quant_code_s8(f[i] / so) * so;
        break;
    default: /* EMIT_FQ8: the code the runtime's conversion would make */
        for (int64_t i = 0; i < n; i++)
            d8[i] = (int8_t)oct_fake_quant_code_s8(f[i] / so);
    }
}

typedef struct {
    oct_kernel base;
    int op;
    int64_t n, h, w, oh, ow, c;        /* MaxPool, Resize: N, input H W, output H W, channels */
    int64_t part_c[OCT_KERNEL_MAX_IN]; /* Concat inputs / Split outputs: channels */
    int64_t whole_c;
    q8_emit *em;                    /* per Concat input / Split output, else one */
    int64_t *iy, *ix;               /* Resize tables */
    int64_t *ylo, *yhi, *xlo, *xhi; /* MaxPool: valid taps per output row / column */
    int64_t sy, sx, py, px, dy, dx;
    float sa, sb, so; /* Add: input and output scales (so 0: not INT8) */
    int codes_out;    /* Add */
} q8_kernel;

typedef struct {
    q8_kernel *k;
    oct_exec *x;
} q8_job;

static const int8_t *in_codes(q8_job *j, int i) {
    return oct_exec_tensor(j->x, j->k->base.in_values[i])->data;
}
static void *out_data(q8_job *j, int o) {
    return oct_exec_tensor(j->x, j->k->base.out_values[o])->data;
}

/* Rows r = n * OH + oy of the output: for each pixel, the channel-wise max
 * of the window's codes (a copy, then max, which vectorizes) in blocks of
 * up to 256 channels on the stack, then the output's form. */
static void maxpool_rows(void *ctx, int64_t b, int64_t e) {
    q8_job *j = ctx;
    const q8_kernel *k = j->k;
    const int8_t *X = in_codes(j, 0);
    void *Y = out_data(j, 0);
    int64_t C = k->c;
    int8_t m[256];
    for (int64_t r = b; r < e; r++) {
        int64_t n = r / k->oh, oy = r % k->oh, iy0 = oy * k->sy - k->py;
        for (int64_t ox = 0; ox < k->ow; ox++) {
            int64_t ix0 = ox * k->sx - k->px, at = (r * k->ow + ox) * C;
            for (int64_t c0 = 0; c0 < C; c0 += 256) {
                int64_t cn = C - c0 < 256 ? C - c0 : 256;
                int first = 1;
                for (int64_t ky = k->ylo[oy]; ky < k->yhi[oy]; ky++) {
                    const int8_t *row = X + (n * k->h + iy0 + ky * k->dy) * k->w * C + c0;
                    for (int64_t kx = k->xlo[ox]; kx < k->xhi[ox]; kx++) {
                        const int8_t *restrict s = row + (ix0 + kx * k->dx) * C;
                        if (first) {
                            memcpy(m, s, (size_t)cn);
                            first = 0;
                            continue;
                        }
                        for (int64_t c = 0; c < cn; c++)
                            m[c] = m[c] > s[c] ? m[c] : s[c];
                    }
                }
                emit(k->em, m, 0, Y, at + c0, cn);
            }
        }
    }
}

/* Pixels of the whole (N * H * W): Concat gathers the parts' channels into
 * it, Split scatters it into the parts. */
static void concat_pixels(void *ctx, int64_t b, int64_t e) {
    q8_job *j = ctx;
    const q8_kernel *k = j->k;
    void *Y = out_data(j, 0);
    for (int p = 0; p < k->base.n_in; p++) {
        const void *X = in_codes(j, p);
        int64_t C = k->part_c[p], off = 0;
        for (int q = 0; q < p; q++)
            off += k->part_c[q];
        for (int64_t i = b; i < e; i++)
            emit(&k->em[p], X, i * C, Y, i * k->whole_c + off, C);
    }
}

static void split_pixels(void *ctx, int64_t b, int64_t e) {
    q8_job *j = ctx;
    const q8_kernel *k = j->k;
    const void *X = in_codes(j, 0);
    int64_t off = 0;
    for (int p = 0; p < k->base.n_out; p++) {
        void *Y = out_data(j, p);
        int64_t C = k->part_c[p];
        for (int64_t i = b; i < e; i++)
            emit(&k->em[p], X, i * k->whole_c + off, Y, i * C, C);
        off += C;
    }
}

/* Rows r = n * OH + oy: each output pixel is one input pixel's channels. */
static void resize_rows(void *ctx, int64_t b, int64_t e) {
    q8_job *j = ctx;
    const q8_kernel *k = j->k;
    const int8_t *X = in_codes(j, 0);
    void *Y = out_data(j, 0);
    int64_t C = k->c;
    for (int64_t r = b; r < e; r++) {
        int64_t n = r / k->oh, oy = r % k->oh;
        int64_t row = (n * k->h + k->iy[oy]) * k->w * C;
        for (int64_t ox = 0; ox < k->ow; ox++)
            emit(k->em, X, row + k->ix[ox] * C, Y, (r * k->ow + ox) * C, C);
    }
}

/* Elements (both inputs and the output are NHWC of one shape): the float
 * sum of the two values, as the simulation adds them, then its fake
 * quantization when the output is INT8. The builds use -std=c11, so the
 * products are not contracted into an FMA the simulation does not do. */
static void add_elems(void *ctx, int64_t b, int64_t e) {
    q8_job *j = ctx;
    const q8_kernel *k = j->k;
    const int8_t *restrict A = in_codes(j, 0), *restrict B = in_codes(j, 1);
    float sa = k->sa, sb = k->sb, so = k->so;
    if (k->codes_out) {
        int8_t *restrict d = out_data(j, 0);
        for (int64_t i = b; i < e; i++) {
            float f = (float)A[i] * sa + (float)B[i] * sb;
            d[i] = (int8_t)oct_fake_quant_code_s8(f / so);
        }
    } else if (so > 0) {
        float *restrict d = out_data(j, 0);
        for (int64_t i = b; i < e; i++) {
            float f = (float)A[i] * sa + (float)B[i] * sb;
            d[i] = oct_fake_quant_code_s8(f / so) * so;
        }
    } else {
        float *restrict d = out_data(j, 0);
        for (int64_t i = b; i < e; i++)
            d[i] = (float)A[i] * sa + (float)B[i] * sb;
    }
}

static oct_status q8_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    q8_kernel *k = (q8_kernel *)kb;
    for (int o = 0; o < kb->n_out; o++)
        OCT_TRY(oct_exec_prepare_output(oct_exec_tensor(x, kb->out_values[o]), 0));
    q8_job j = {k, x};
    const oct_tensor *y = oct_exec_tensor(x, kb->out_values[0]);
    const oct_tensor *in = oct_exec_tensor(x, kb->in_values[0]);
    switch (k->op) {
    case Q8_MAXPOOL:
        oct_parallel_for(x->pool, k->n * k->oh, 1 + 16384 / (1 + k->ow * k->c), maxpool_rows, &j);
        break;
    case Q8_CONCAT:
        oct_parallel_for(x->pool, y->dims[0] * y->dims[2] * y->dims[3],
                         1 + 65536 / (1 + k->whole_c), concat_pixels, &j);
        break;
    case Q8_SPLIT:
        oct_parallel_for(x->pool, in->dims[0] * in->dims[2] * in->dims[3],
                         1 + 65536 / (1 + k->whole_c), split_pixels, &j);
        break;
    case Q8_RESIZE:
        oct_parallel_for(x->pool, k->n * k->oh, 1 + 16384 / (1 + k->ow * k->c), resize_rows, &j);
        break;
    default: oct_parallel_for(x->pool, oct_numel(in), 16384, add_elems, &j); break;
    }
    (void)err;
    return OCT_OK;
}

static void q8_destroy(oct_kernel *kb) {
    q8_kernel *k = (q8_kernel *)kb;
    free(k->em);
    free(k->iy);
    free(k->ix);
    free(k->ylo);
    free(k->yhi);
    free(k->xlo);
    free(k->xhi);
    free(k);
}

static const char *const q8_names[] = {"",         "q8:maxpool", "q8:concat",
                                       "q8:split", "q8:resize",  "q8:add"};

static oct_status q8_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    q8_node qn;
    int op = q8_applies(x, node, &qn);
    if (!op) return OCT_OK;
    const oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    int n_out = op == Q8_SPLIT ? n->n_out : 1;
    int codes_out[OCT_KERNEL_MAX_OUT], any = 0;
    for (int o = 0; o < n_out; o++)
        any |= codes_out[o] = oct_q8_output(x, n->out[o]);
    for (int i = 0; i < qn.n_data; i++)
        any |= x->layout[n->in[i]] == OCT_LAYOUT_NHWC_Q8;
    /* nothing arrives or leaves as codes: the float kernels need no
     * conversion, so they run it */
    if (!any) {
        free(qn.iy);
        free(qn.ix);
        return OCT_OK;
    }
    q8_kernel *k = calloc(1, sizeof *k);
    int n_em = op == Q8_CONCAT ? qn.n_data : n_out;
    if (k) k->em = calloc((size_t)n_em, sizeof *k->em);
    if (!k || !k->em) {
        free(k);
        free(qn.iy);
        free(qn.ix);
        return oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    k->op = op;
    k->iy = qn.iy;
    k->ix = qn.ix;
    const oct_tensor *X = &g->values[n->in[0]].t, *Y = &g->values[n->out[0]].t;
    k->n = X->dims[0];
    k->c = X->dims[1];
    k->h = X->dims[2];
    k->w = X->dims[3];
    k->oh = Y->dims[2];
    k->ow = Y->dims[3];
    float s_in = oct_exec_act_scale(x, n->in[0]), s_out = oct_exec_act_scale(x, n->out[0]);
    oct_status st = OCT_OK;
    switch (op) {
    case Q8_CONCAT:
        k->whole_c = Y->dims[1];
        for (int p = 0; p < qn.n_data; p++) {
            k->part_c[p] = g->values[n->in[p]].t.dims[1];
            emit_init(&k->em[p], oct_exec_act_scale(x, n->in[p]), s_out, codes_out[0]);
        }
        break;
    case Q8_SPLIT:
        k->whole_c = X->dims[1];
        for (int p = 0; p < n_out; p++) {
            k->part_c[p] = g->values[n->out[p]].t.dims[1];
            emit_init(&k->em[p], s_in, oct_exec_act_scale(x, n->out[p]), codes_out[p]);
        }
        break;
    case Q8_ADD:
        k->sa = s_in;
        k->sb = oct_exec_act_scale(x, n->in[1]);
        k->so = s_out;
        k->codes_out = codes_out[0];
        break;
    case Q8_MAXPOOL: {
        const oct_nn_window *w = &qn.pool.w;
        k->sy = w->stride[0];
        k->sx = w->stride[1];
        k->dy = w->dil[0];
        k->dx = w->dil[1];
        k->py = w->pad_b[0];
        k->px = w->pad_b[1];
        k->ylo = malloc(sizeof(int64_t) * (size_t)(k->oh + 1));
        k->yhi = malloc(sizeof(int64_t) * (size_t)(k->oh + 1));
        k->xlo = malloc(sizeof(int64_t) * (size_t)(k->ow + 1));
        k->xhi = malloc(sizeof(int64_t) * (size_t)(k->ow + 1));
        if (!k->ylo || !k->yhi || !k->xlo || !k->xhi) {
            st = oct_fail(err, OCT_E_NOMEM, "out of memory");
            break;
        }
        for (int64_t o = 0; o < k->oh; o++)
            pool_taps(w, 0, o, &k->ylo[o], &k->yhi[o]);
        for (int64_t o = 0; o < k->ow; o++)
            pool_taps(w, 1, o, &k->xlo[o], &k->xhi[o]);
        emit_init(k->em, s_in, s_out, codes_out[0]);
        break;
    }
    default: emit_init(k->em, s_in, s_out, codes_out[0]); break; /* Resize */
    }
    if (st) {
        q8_destroy(&k->base);
        return st;
    }
    k->base.impl = q8_names[op];
    k->base.node = node;
    k->base.n_in = qn.n_data;
    for (int i = 0; i < qn.n_data; i++) {
        k->base.in_values[i] = n->in[i];
        k->base.in_accept[i] =
            oct_exec_act_scale(x, n->in[i]) > 0 ? OCT_ACCEPT_NHWC_Q8 : OCT_ACCEPT_NHWC;
    }
    k->base.n_out = n_out;
    for (int o = 0; o < n_out; o++) {
        int v = n->out[o];
        k->base.out_values[o] = v;
        k->base.out_layout[o] = codes_out[o] ? OCT_LAYOUT_NHWC_Q8 : OCT_LAYOUT_NHWC;
        /* codes, or floats already fake-quantized with the output's scale:
         * the observer has nothing left to do */
        if (oct_exec_act_scale(x, v) > 0) x->int8->kernel_quantized[v] = 1;
    }
    k->base.run = q8_run;
    k->base.destroy = q8_destroy;
    *out = &k->base;
    return OCT_OK;
}

const oct_backend oct_backend_q8 = {"q8", q8_create, NULL, NULL};
