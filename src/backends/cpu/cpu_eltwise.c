/* Element-wise ops, threaded: the reference kernel itself runs on chunks of
 * the flat index space (so the arithmetic has one home), split across the
 * session's pool. Layout-agnostic: when every full-size input is channels-
 * last the op runs on channels-last data; a per-channel constant ([1,C,1,1])
 * is broadcast along the innermost axis there. */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernels.h"
#include "core/arith.h"
#include "ops/op.h"
#include "runtime/exec.h"

static const char *const unary_ops[] = {
    "Relu", "Sigmoid",  "Tanh",      "Exp",         "Log",       "Sqrt",       "Neg",
    "Abs",  "Erf",      "LeakyRelu", "HardSigmoid", "HardSwish", "Elu",        "Selu",
    "Celu", "Softplus", "Softsign",  "Mish",        "Gelu",      "Reciprocal", "Floor",
    "Ceil", "Round",    "Sin",       "Cos",         "Clip",      NULL};
static const char *const binary_ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", NULL};
/* per-tensor QuantizeLinear / DequantizeLinear between float and 8 bits:
 * Q/DQ models run one of each on every activation */
static const char *const quant_ops[] = {"QuantizeLinear", "DequantizeLinear", NULL};

enum { IN_FULL, IN_SCALAR, IN_CHANNEL };

typedef struct {
    oct_kernel base;
    int kind[3]; /* per input: full-size, scalar, or per-channel constant */
    int nhwc;
    int64_t channels;
    int sigmoid; /* float Sigmoid: arith.h's vectorized form, not the reference's double exp */
} ew_kernel;

typedef struct {
    ew_kernel *k;
    oct_exec *x;
    const oct_node *n;
    oct_status st;
    int64_t row;  /* elements per row for per-channel work (0: flat) */
    int64_t base; /* first row of this batch image (plain per-channel) */
} ew_job;

/* One chunk [b, e) of the flat output (or of rows when broadcasting a
 * per-channel constant), computed by the node's reference kernel on views. */
static void ew_chunk(void *ctx, int64_t b, int64_t e) {
    ew_job *j = ctx;
    ew_kernel *k = j->k;
    const oct_node *n = j->n;
    oct_graph *g = j->x->g;
    if (k->sigmoid) {
        const float *restrict xs = (const float *)g->values[k->base.in_values[0]].t.data;
        float *restrict ys = (float *)g->values[k->base.out_values[0]].t.data;
        for (int64_t i = b; i < e; i++)
            ys[i] = oct_sigmoidf(xs[i]);
        return;
    }
    oct_tensor views[3], outv;
    const oct_tensor *in[3];
    oct_tensor *out[1];
    oct_tensor *y = &g->values[k->base.out_values[0]].t;
    size_t es = oct_dtype_size(y->dtype);
    int64_t C = k->channels;
    /* plain + per-channel: rows are channels (of H*W); nhwc: rows are pixels (of C) */
    int64_t row = j->row ? j->row : 1;
    int64_t off = j->base + b; /* global row of the chunk */
    memset(&outv, 0, sizeof outv);
    outv.dtype = y->dtype;
    outv.ndim = j->row ? 2 : 1;
    outv.dims[0] = e - b;
    if (j->row) outv.dims[1] = row;
    outv.data = (char *)y->data + (size_t)off * (size_t)row * es;
    out[0] = &outv;
    for (int i = 0; i < k->base.n_in && i < 3; i++) {
        const oct_tensor *t = &g->values[k->base.in_values[i]].t;
        memset(&views[i], 0, sizeof views[i]);
        views[i].dtype = t->dtype;
        if (k->kind[i] == IN_SCALAR) {
            views[i].ndim = 0;
            views[i].data = t->data;
        } else if (k->kind[i] == IN_FULL) { /* its own element size: Q/DQ change types */
            views[i].ndim = outv.ndim;
            memcpy(views[i].dims, outv.dims, sizeof outv.dims);
            views[i].data = (char *)t->data + (size_t)off * (size_t)row * oct_dtype_size(t->dtype);
        } else if (k->nhwc) { /* [C] broadcast along each pixel row */
            views[i].ndim = 1;
            views[i].dims[0] = C;
            views[i].data = t->data;
        } else { /* channels b..e of a [C] vector, one per row */
            views[i].ndim = 2;
            views[i].dims[0] = e - b;
            views[i].dims[1] = 1;
            views[i].data = (char *)t->data + (size_t)(b % C) * es;
        }
        in[i] = &views[i];
    }
    for (int i = k->base.n_in; i < n->n_in && i < 3;
         i++) /* Clip's bounds, Q/DQ's scale and zero point */
        in[i] = n->in[i] >= 0 ? &g->values[n->in[i]].t : NULL;
    oct_opctx c = {n, n->n_in < 3 ? n->n_in : 3, in, 1, out, n->opset, 1, NULL};
    oct_status st = n->def->run(&c);
    if (st) j->st = st;
}

static oct_status ew_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    ew_kernel *k = (ew_kernel *)kb;
    const oct_node *n = &x->g->nodes[kb->node];
    oct_tensor *y = oct_exec_tensor(x, kb->out_values[0]);
    OCT_TRY(oct_exec_prepare_output(y, 0));
    ew_job j = {k, x, n, OCT_OK, 0, 0};
    int64_t total = oct_numel(y);
    int per_channel = 0;
    for (int i = 0; i < kb->n_in; i++)
        per_channel |= k->kind[i] == IN_CHANNEL;
    if (!per_channel) {
        oct_parallel_for(x->pool, total, 16384, ew_chunk, &j);
    } else if (k->nhwc) {
        j.row = k->channels;
        oct_parallel_for(x->pool, total / k->channels, 16384 / k->channels + 1, ew_chunk, &j);
    } else {
        /* rows are channels of H*W values; chunks stay inside one image so
         * the constant's row index is the local row */
        int64_t hw = y->dims[2] * y->dims[3];
        j.row = hw;
        for (int64_t img = 0; img < y->dims[0] && !j.st; img++) {
            j.base = img * k->channels;
            oct_parallel_for(x->pool, k->channels, 1 + 16384 / (hw ? hw : 1), ew_chunk, &j);
        }
    }
    if (j.st)
        return oct_fail(err, j.st, "node '%s' (%s): element-wise kernel failed", n->name,
                        n->op_type);
    return OCT_OK;
}

static void ew_destroy(oct_kernel *k) { free(k); }

static int in_list(const char *const *l, const char *s) {
    for (; *l; l++)
        if (!strcmp(*l, s)) return 1;
    return 0;
}

oct_status oct_cpu_eltwise_create(oct_exec *x, int node, oct_kernel **out, oct_error *err);
oct_status oct_cpu_eltwise_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    int quant = in_list(quant_ops, n->op_type);
    int unary = quant || in_list(unary_ops, n->op_type), binary = in_list(binary_ops, n->op_type);
    if ((!unary && !binary) || n->n_out != 1 || n->out[0] < 0 || !n->def) return OCT_OK;
    int n_data = unary ? 1 : 2;
    if (n->n_in < n_data) return OCT_OK;
    if (!unary && n->n_in != 2) return OCT_OK;
    const oct_tensor *y = &g->values[n->out[0]].t;
    oct_dtype in_type = OCT_FLOAT;
    if (quant) {
        /* float <-> int8/uint8 with one constant scale (and zero point) */
        int q = !strcmp(n->op_type, "QuantizeLinear");
        oct_dtype narrow = q ? y->dtype : g->values[n->in[0]].t.dtype;
        if (narrow != OCT_INT8 && narrow != OCT_UINT8) return OCT_OK;
        if (!q && y->dtype != OCT_FLOAT) return OCT_OK;
        if (n->n_in < 2 || n->in[1] < 0) return OCT_OK;
        for (int i = 1; i < n->n_in && i < 3; i++)
            if (n->in[i] >= 0 &&
                (!g->values[n->in[i]].is_const || oct_numel(&g->values[n->in[i]].t) != 1))
                return OCT_OK;
        if (n->opset >= 21 && oct_attr_int(n, "block_size", 0)) return OCT_OK;
        in_type = q ? OCT_FLOAT : narrow;
    } else if (y->dtype != OCT_FLOAT) {
        return OCT_OK;
    }
    ew_kernel *k = calloc(1, sizeof *k);
    if (!k) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    int all_nhwc = 1, any_full = 0;
    for (int i = 0; i < n_data; i++) {
        int v = n->in[i];
        if (v < 0) goto decline;
        const oct_tensor *t = &g->values[v].t;
        if (t->dtype != in_type) goto decline;
        if (oct_shape_equal(t, y)) {
            k->kind[i] = IN_FULL;
            any_full = 1;
            if (x->layout[v] != OCT_LAYOUT_NHWC) all_nhwc = 0;
        } else if (oct_numel(t) == 1) {
            k->kind[i] = IN_SCALAR;
        } else if (y->ndim == 4 && g->values[v].is_const && oct_numel(t) == y->dims[1] &&
                   t->ndim >= 3 && t->dims[t->ndim - 3] == y->dims[1]) {
            k->kind[i] = IN_CHANNEL; /* [1,C,1,1] or [C,1,1] */
            k->channels = y->dims[1];
        } else {
            goto decline;
        }
    }
    if (!any_full) goto decline;
    /* Clip's optional bounds (and Q/DQ's parameters) must be constants (read
     * whole per chunk). */
    for (int i = n_data; i < n->n_in; i++)
        if (n->in[i] >= 0 && !g->values[n->in[i]].is_const) goto decline;
    k->nhwc = all_nhwc && y->ndim == 4;
    k->sigmoid = !strcmp(n->op_type, "Sigmoid");
    if (!k->nhwc && k->channels && y->ndim != 4) goto decline;
    k->base.impl = "cpu:eltwise";
    k->base.node = node;
    k->base.n_in = n_data;
    for (int i = 0; i < n_data; i++) {
        k->base.in_values[i] = n->in[i];
        k->base.in_accept[i] = k->kind[i] == IN_FULL
                                   ? (k->nhwc ? OCT_ACCEPT_NHWC : OCT_ACCEPT_PLAIN)
                                   : OCT_ACCEPT_PLAIN | OCT_ACCEPT_NHWC;
    }
    k->base.n_out = 1;
    k->base.out_values[0] = n->out[0];
    k->base.out_layout[0] = k->nhwc ? OCT_LAYOUT_NHWC : OCT_LAYOUT_PLAIN;
    k->base.run = ew_run;
    k->base.destroy = ew_destroy;
    *out = &k->base;
    return OCT_OK;
decline:
    free(k);
    return OCT_OK;
}
