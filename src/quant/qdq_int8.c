/* Explicit quantization: a model that already holds QuantizeLinear /
 * DequantizeLinear pairs (QAT output, TensorRT's explicit mode, ONNX
 * Runtime's QDQ format) runs its quantized Conv, ConvTranspose (group 1),
 * MatMul and Gemm nodes on
 * the real INT8 kernels, without a plan.
 *
 * The ONNX graph of such a node is
 *
 *   x_q (int8) -> DequantizeLinear(s_x, zp 0) -> x  \
 *   W_q (int8) -> DequantizeLinear(s_w[c], zp 0) -> W -> Conv -> y
 *
 * which is exactly the situation the INT8 kernels were written for (see
 * runtime/backend.h, oct_exec_int8): the activation input holds q * s_x,
 * exact multiples of a symmetric int8 scale, and the weight, folded to a
 * constant by the graph passes, holds q_w * s_w[c]. So the fold needs no
 * rewrite of the graph, only the facts: act_scale[x] = s_x and the weight's
 * per-output-channel scales, read from the weight's DequantizeLinear in the
 * model as imported (the folded graph no longer has it). Everything else
 * (the Q/DQ nodes themselves, SiLU, the head) follows ONNX semantics on the
 * float kernels. A node whose pattern differs (uint8 or non-zero zero
 * points, a blocked or mismatched axis, weights off their grid) is left to
 * the float path, which is always correct. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/ir.h"
#include "quant/qdq_int8.h"
#include "quant/weights.h"

struct oct_qdq {
    oct_exec_int8 q;
    float *act_scale;
    float **w_scales;
    int *n_w_scales;
    unsigned char *kernel_quantized;
    int n_folded;
};

/* The float value of a constant scalar (or 1-element) float tensor, or 0. */
static float const_scale(const oct_graph *g, int v) {
    if (v < 0) return 0;
    const oct_value *val = &g->values[v];
    if (!val->is_const || !val->t.data || val->t.dtype != OCT_FLOAT || oct_numel(&val->t) != 1)
        return 0;
    return *(const float *)val->t.data;
}

/* 1 when the zero point input (optional) is absent or a constant int8 of
 * zeros: the kernels take symmetric int8 only. */
static int zero_int8_zp(const oct_graph *g, const oct_node *n) {
    if (n->n_in < 3 || n->in[2] < 0) return 1;
    const oct_value *z = &g->values[n->in[2]];
    if (!z->is_const || !z->t.data || z->t.dtype != OCT_INT8) return 0;
    const int8_t *p = z->t.data;
    for (int64_t i = 0; i < oct_numel(&z->t); i++)
        if (p[i]) return 0;
    return 1;
}

/* s_x when value v is the output of DequantizeLinear(int8, scalar s_x,
 * zero point 0), else 0. */
static float act_input_scale(const oct_graph *g, int v) {
    int p = g->values[v].producer;
    if (p < 0) return 0;
    const oct_node *dq = &g->nodes[p];
    if (dq->dead || dq->domain[0] || strcmp(dq->op_type, "DequantizeLinear") || dq->n_in < 2)
        return 0;
    if (dq->in[0] < 0 || g->values[dq->in[0]].t.dtype != OCT_INT8 || !zero_int8_zp(g, dq)) return 0;
    float s = const_scale(g, dq->in[1]);
    return isnormal(s) && s > 0 ? s : 0;
}

/* The per-output-channel scales (oc of them, malloc'd) of node n's weight
 * w, when the imported model made it with DequantizeLinear(int8 constant,
 * scale, zero point 0) per tensor or along the channel axis the INT8 kernel
 * expects, and the folded weight really is codes * scales. NULL otherwise. */
static float *weight_scales(const oct_graph *orig, const oct_graph *g, const oct_node *n,
                            int64_t *oc_out) {
    const oct_value *w = &g->values[n->in[1]];
    if (!w->is_const || !w->t.data || w->t.dtype != OCT_FLOAT) return NULL;
    int conv = !strcmp(n->op_type, "Conv") || !strcmp(n->op_type, "ConvTranspose");
    if (conv ? w->t.ndim < 3 : w->t.ndim != 2) return NULL;
    int64_t trans_b = !strcmp(n->op_type, "Gemm") ? oct_attr_int(n, "transB", 0) : 0;
    int axis = oct_weight_channel_axis(n->op_type, w->t.ndim, oct_attr_int(n, "group", 1), trans_b,
                                       OCT_WEIGHTS_PER_CHANNEL);
    if (axis < 0) return NULL;
    int ov = oct_graph_find(orig, w->name);
    if (ov < 0 || orig->values[ov].producer < 0) return NULL;
    const oct_node *dq = &orig->nodes[orig->values[ov].producer];
    if (dq->domain[0] || strcmp(dq->op_type, "DequantizeLinear") || dq->n_in < 2 ||
        !zero_int8_zp(orig, dq))
        return NULL;
    const oct_value *wq = &orig->values[dq->in[0]],
                    *sv = dq->in[1] >= 0 ? &orig->values[dq->in[1]] : NULL;
    if (!wq->is_const || wq->t.dtype != OCT_INT8 || !wq->t.data || !sv || !sv->is_const ||
        !sv->t.data || sv->t.dtype != OCT_FLOAT || !oct_shape_equal(&wq->t, &w->t))
        return NULL;
    if (dq->opset >= 21 && oct_attr_int(dq, "block_size", 0)) return NULL;
    int64_t ns = oct_numel(&sv->t), oc = w->t.dims[axis];
    int64_t dq_axis = oct_attr_int(dq, "axis", 1);
    if (dq_axis < 0) dq_axis += w->t.ndim;
    if (ns != 1 && (ns != oc || dq_axis != axis)) return NULL;
    float *sc = malloc(sizeof(float) * (size_t)oc);
    if (!sc) return NULL;
    const float *s = sv->t.data;
    for (int64_t c = 0; c < oc; c++) {
        sc[c] = s[ns == 1 ? 0 : c];
        if (!(isnormal(sc[c]) && sc[c] > 0)) {
            free(sc);
            return NULL;
        }
    }
    /* The kernel recovers the codes as round(W / s): check that they are
     * the model's (a graph pass could have changed the weight). */
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= w->t.dims[d];
    for (int d = axis + 1; d < w->t.ndim; d++)
        inner *= w->t.dims[d];
    const float *wf = w->t.data;
    const int8_t *q = wq->t.data;
    for (int64_t o = 0, i = 0; o < outer; o++)
        for (int64_t c = 0; c < oc; c++)
            for (int64_t k = 0; k < inner; k++, i++)
                if (wf[i] != (float)q[i] * sc[c]) {
                    free(sc);
                    return NULL;
                }
    *oc_out = oc;
    return sc;
}

oct_status oct_qdq_prepare(const oct_graph *orig, const oct_graph *g, oct_qdq **out,
                           oct_error *err) {
    *out = NULL;
    oct_qdq *q = calloc(1, sizeof *q);
    if (!q) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    q->act_scale = calloc((size_t)g->n_values + 1, sizeof(float));
    q->kernel_quantized = calloc((size_t)g->n_values + 1, 1);
    q->w_scales = calloc((size_t)g->n_nodes + 1, sizeof(float *));
    q->n_w_scales = calloc((size_t)g->n_nodes + 1, sizeof(int));
    if (!q->act_scale || !q->kernel_quantized || !q->w_scales || !q->n_w_scales) {
        oct_qdq_free(q);
        return oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const oct_node *n = &g->nodes[i];
        if (n->dead || n->domain[0] || n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0) continue;
        if (strcmp(n->op_type, "Conv") && strcmp(n->op_type, "ConvTranspose") &&
            strcmp(n->op_type, "MatMul") && strcmp(n->op_type, "Gemm"))
            continue;
        float s_x = act_input_scale(g, n->in[0]);
        if (!(s_x > 0)) continue;
        int64_t oc = 0;
        float *sc = weight_scales(orig, g, n, &oc);
        if (!sc) continue;
        q->act_scale[n->in[0]] = s_x;
        q->w_scales[i] = sc;
        q->n_w_scales[i] = (int)oc;
        q->n_folded++;
    }
    q->q.n_values = g->n_values;
    q->q.n_nodes = g->n_nodes;
    q->q.act_scale = q->act_scale;
    q->q.w_scales = q->w_scales;
    q->q.n_w_scales = q->n_w_scales;
    q->q.kernel_quantized = q->kernel_quantized;
    *out = q;
    return OCT_OK;
}

const oct_exec_int8 *oct_qdq_int8(const oct_qdq *q) { return q && q->n_folded ? &q->q : NULL; }

int oct_qdq_folded(const oct_qdq *q) { return q ? q->n_folded : 0; }

void oct_qdq_free(oct_qdq *q) {
    if (!q) return;
    if (q->w_scales)
        for (int i = 0; i < q->q.n_nodes; i++)
            free(q->w_scales[i]);
    free(q->w_scales);
    free(q->n_w_scales);
    free(q->act_scale);
    free(q->kernel_quantized);
    free(q);
}
