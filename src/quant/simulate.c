/* Exact simulation of a plan: every INT8 tensor is fake-quantized where it
 * is produced, clamp(round_half_even(x / s), -128, 127) * s (uint8 with a
 * zero point for asymmetric plans); FP16/BF16 tensors are rounded to that
 * format; weights of INT8 nodes are fake-quantized per output channel (or
 * per tensor) to the plan's weight_bits once, when the session is created,
 * and weights of FP16/BF16 nodes rounded. This is the numerical truth that
 * real INT8 kernels and every accuracy number are checked against. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "octet/quant.h"
#include "quant/plan.h"
#include "quant/sim.h"
#include "quant/weights.h"
#include "runtime/runtime.h"

struct oct_sim {
    int n;
    unsigned char *prec; /* per value: oct_precision */
    float *scale;
    int32_t *zp;
    unsigned char *is_u8;
    oct_pool *pool;
    /* real INT8 kernels (oct_session_create_int8) */
    int real_int8;
    oct_exec_int8 q;
    float *act_scale;  /* per value */
    float **w_scales;  /* per node */
    unsigned char *kernel_quantized; /* per value */
    int *n_w_scales;   /* per node */
    int n_nodes;
};

typedef struct {
    float *x;
    float scale;
    int32_t zp;
    int mode; /* 0 s8, 1 u8, 2 fp16, 3 bf16 */
} fq_job;

static void fq_chunk(void *ctx, int64_t b, int64_t e) {
    const fq_job *j = ctx;
    float *x = j->x;
    switch (j->mode) {
    case 0:
        for (int64_t i = b; i < e; i++) x[i] = oct_fake_quant_s8(x[i], j->scale);
        break;
    case 1:
        for (int64_t i = b; i < e; i++) x[i] = oct_fake_quant_u8(x[i], j->scale, j->zp);
        break;
    case 2:
        for (int64_t i = b; i < e; i++) x[i] = oct_round_f16(x[i]);
        break;
    default:
        for (int64_t i = b; i < e; i++) x[i] = oct_round_bf16(x[i]);
        break;
    }
}

/* Applies the value's plan precision to its data, in place. */
void oct_sim_apply(const oct_sim *s, oct_value *v, int idx) {
    if (idx >= s->n || s->prec[idx] == OCT_PREC_FP32 || v->t.dtype != OCT_FLOAT || !v->t.data) return;
    fq_job j = {v->t.data, s->scale[idx], s->zp[idx], 0};
    switch (s->prec[idx]) {
    case OCT_PREC_INT8: j.mode = s->is_u8[idx] ? 1 : 0; break;
    case OCT_PREC_FP16: j.mode = 2; break;
    default: j.mode = 3; break;
    }
    oct_parallel_for(s->pool, oct_numel(&v->t), 32768, fq_chunk, &j);
}

oct_status oct_sim_observe(void *user, oct_graph *g, int node, int nv, const int *vals) {
    (void)node;
    const oct_sim *s = user;
    for (int i = 0; i < nv; i++) {
        /* an INT8 kernel already wrote clamp(round(x / s), -128, 127) * s */
        if (s->kernel_quantized && vals[i] < s->n && s->kernel_quantized[vals[i]]) continue;
        oct_sim_apply(s, &g->values[vals[i]], vals[i]);
    }
    return OCT_OK;
}

oct_status oct_sim_inputs(oct_session *sess) {
    oct_sim *s = sess->sim;
    if (!s) return OCT_OK;
    for (int k = 0; k < sess->g->n_inputs; k++) oct_sim_apply(s, &sess->g->values[sess->g->inputs[k]], sess->g->inputs[k]);
    return OCT_OK;
}

void oct_sim_free(oct_sim *s) {
    if (!s) return;
    free(s->prec);
    free(s->scale);
    free(s->zp);
    free(s->is_u8);
    free(s->act_scale);
    free(s->kernel_quantized);
    if (s->w_scales)
        for (int i = 0; i < s->n_nodes; i++) free(s->w_scales[i]);
    free(s->w_scales);
    free(s->n_w_scales);
    free(s);
}

const oct_exec_int8 *oct_sim_int8(const oct_sim *s) { return s && s->real_int8 ? &s->q : NULL; }

/* The per-output-channel scales the simulation is about to quantize a Conv
 * or ConvTranspose weight, or a MatMul / Gemm 2-D weight, with (the same
 * call oct_sim_quantize_weight makes), expanded to one per output channel
 * (Conv, ConvTranspose) or output column (MatMul, Gemm) when the weight is
 * quantized per tensor. ConvTranspose weights are [C_in, C_out/g, k...]:
 * axis 1 holds the output channels when group == 1; with groups the weight
 * is quantized per tensor (quant/weights.h), so every one of the
 * C_out = dims[1] * group channels gets that scale. The INT8 kernel
 * recovers its codes from the fake-quantized weight with these, so a 4-bit
 * plan's kernel must get amax / 7, not amax / 127. */
static oct_status record_weight_scales(oct_sim *s, int node, const oct_node *n, const oct_tensor *w,
                                       int per_tensor, int bits, oct_error *err) {
    int conv = !strcmp(n->op_type, "Conv"), deconv = !strcmp(n->op_type, "ConvTranspose");
    int mm = !strcmp(n->op_type, "MatMul") || !strcmp(n->op_type, "Gemm");
    /* the INT8 kernels take 2-D matrix weights only (dnnl_matmul_int8.c) */
    if (!((conv || deconv) && w->ndim >= 3) && !(mm && w->ndim == 2)) return OCT_OK;
    if (w->dtype != OCT_FLOAT || !w->data || w->dims[0] < 1 || w->dims[w->ndim - 1] < 1)
        return OCT_OK;
    int64_t trans_b = !strcmp(n->op_type, "Gemm") ? oct_attr_int(n, "transB", 0) : 0;
    int64_t group = oct_attr_int(n, "group", 1);
    int axis =
        oct_weight_channel_axis(n->op_type, w->ndim, group, trans_b,
                                per_tensor ? OCT_WEIGHTS_PER_TENSOR : OCT_WEIGHTS_PER_CHANNEL);
    size_t ns = oct_weight_n_scales(w->ndim, w->dims, axis);
    int64_t oc = conv ? w->dims[0] : deconv ? w->dims[1] * group : w->dims[trans_b ? 0 : 1];
    /* an invalid group: the node fails elsewhere, no INT8 kernel for it */
    if (oc < 1 || (ns != 1 && ns != (size_t)oc)) return OCT_OK;
    float *sc = malloc(sizeof(float) * (size_t)oc);
    if (!sc || !ns) {
        free(sc);
        return sc ? OCT_OK : oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    oct_status st = oct_weight_quantize_bits(w->data, w->ndim, w->dims, axis, bits, NULL, sc, err);
    if (st) {
        free(sc);
        oct_error_prefix(err, "node '%s': ", n->name);
        return st;
    }
    if (ns == 1)
        for (int64_t c = 1; c < oc; c++) sc[c] = sc[0];
    free(s->w_scales[node]);
    s->w_scales[node] = sc;
    s->n_w_scales[node] = (int)oc;
    return OCT_OK;
}

/* Weights of an INT8 node: per output channel (or per tensor), symmetric,
 * max-abs scales, bits wide, exactly as the Q/DQ export stores them
 * (quant/weights.h); fake-quantized in the session's own copy. */
void oct_sim_quantize_weight(const oct_node *n, oct_tensor *w, int per_tensor, int bits) {
    if (w->dtype != OCT_FLOAT || !w->data || oct_numel(w) == 0) return;
    int axis = oct_weight_channel_axis(n->op_type, w->ndim, oct_attr_int(n, "group", 1),
                                       oct_attr_int(n, "transB", 0),
                                       per_tensor ? OCT_WEIGHTS_PER_TENSOR : OCT_WEIGHTS_PER_CHANNEL);
    oct_weight_fake_quant_bits(w->data, w->ndim, w->dims, axis, bits, NULL);
}

static void round_weight(oct_tensor *w, oct_precision p) {
    if (w->dtype != OCT_FLOAT || !w->data) return;
    float *x = w->data;
    int64_t n = oct_numel(w);
    for (int64_t i = 0; i < n; i++) x[i] = p == OCT_PREC_FP16 ? oct_round_f16(x[i]) : oct_round_bf16(x[i]);
}

oct_status oct_sim_prepare(oct_graph *g, const oct_plan *plan, int real_int8, oct_sim **out,
                           unsigned char **keep, oct_error *err) {
    *out = NULL;
    *keep = NULL;
    int wbits = oct_plan_weight_bits(plan);
    /* checked here: the weights are quantized where no error can be reported */
    if (!oct_weight_bits_valid(wbits))
        return oct_fail(err, OCT_E_INVALID_ARG, "plan: weight_bits %d; expected 4, 6, 7 or 8", wbits);
    oct_sim *s = calloc(1, sizeof *s);
    if (!s) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    s->n = g->n_values;
    s->prec = calloc((size_t)s->n + 1, 1);
    s->is_u8 = calloc((size_t)s->n + 1, 1);
    s->scale = calloc((size_t)s->n + 1, sizeof(float));
    s->zp = calloc((size_t)s->n + 1, sizeof(int32_t));
    unsigned char *kp = calloc((size_t)s->n + 1, 1);
    if (real_int8) {
        s->real_int8 = 1;
        s->n_nodes = g->n_nodes;
        s->act_scale = calloc((size_t)s->n + 1, sizeof(float));
        s->kernel_quantized = calloc((size_t)s->n + 1, 1);
        s->w_scales = calloc((size_t)g->n_nodes + 1, sizeof(float *));
        s->n_w_scales = calloc((size_t)g->n_nodes + 1, sizeof(int));
    }
    if (!s->prec || !s->is_u8 || !s->scale || !s->zp || !kp ||
        (real_int8 && (!s->act_scale || !s->w_scales || !s->n_w_scales || !s->kernel_quantized))) {
        free(kp);
        oct_sim_free(s);
        return oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < plan->n_tensors; i++) {
        const oct_plan_tensor *t = &plan->tensors[i];
        int v = oct_graph_find(g, t->name);
        /* FP32 tensors stay materialised too, so that sessions of the same
         * plan with other precisions (analysis, tuning) build the same steps
         * and their values line up index for index. */
        if (t->precision == OCT_PREC_FP32) {
            if (v >= 0 && !g->values[v].is_const && (g->values[v].producer >= 0 || g->values[v].is_input)) {
                kp[v] = 1;
                s->scale[v] = t->scale;
                s->zp[v] = t->zero_point;
                s->is_u8[v] = (unsigned char)t->is_unsigned;
            }
            continue;
        }
        if (v < 0 || g->values[v].is_const || (g->values[v].producer < 0 && !g->values[v].is_input)) {
            free(kp);
            oct_sim_free(s);
            return oct_fail(err, OCT_E_NOT_FOUND,
                            "plan tensor '%s' (%s) is not an activation of the optimised graph (folded or fused away?)",
                            t->name, oct_precision_name(t->precision));
        }
        if (t->precision == OCT_PREC_INT8 && !(t->scale > 0)) {
            free(kp);
            oct_sim_free(s);
            return oct_fail(err, OCT_E_INVALID_ARG, "plan tensor '%s': int8 needs a positive scale", t->name);
        }
        s->prec[v] = (unsigned char)t->precision;
        s->scale[v] = t->scale;
        s->zp[v] = t->zero_point;
        s->is_u8[v] = (unsigned char)t->is_unsigned;
        kp[v] = 1;
        if (real_int8 && t->precision == OCT_PREC_INT8 && !t->is_unsigned) s->act_scale[v] = t->scale;
    }
    /* Weights, once: INT8 nodes quantize theirs, FP16/BF16 nodes round. */
    for (int i = 0; i < plan->n_nodes; i++) {
        const oct_plan_node *pn = &plan->nodes[i];
        if (pn->precision == OCT_PREC_FP32) continue;
        for (int k = 0; k < g->n_nodes; k++) {
            oct_node *n = &g->nodes[k];
            if (n->dead || strcmp(n->name, pn->name)) continue;
            int is_w = !strcmp(n->op_type, "Conv") || !strcmp(n->op_type, "ConvTranspose") ||
                       !strcmp(n->op_type, "Gemm") || !strcmp(n->op_type, "MatMul");
            if (!is_w || n->n_in < 2 || n->in[1] < 0 || !g->values[n->in[1]].is_const) continue;
            oct_tensor *w = &g->values[n->in[1]].t;
            if (pn->precision == OCT_PREC_INT8 && real_int8) {
                oct_status st =
                    record_weight_scales(s, k, n, w, plan->weights == OCT_WEIGHTS_PER_TENSOR, wbits, err);
                if (st) {
                    free(kp);
                    oct_sim_free(s);
                    return st;
                }
            }
            if (pn->precision == OCT_PREC_INT8)
                oct_sim_quantize_weight(n, w, plan->weights == OCT_WEIGHTS_PER_TENSOR, wbits);
            else
                round_weight(w, pn->precision);
        }
    }
    s->q.n_values = s->n;
    s->q.n_nodes = s->n_nodes;
    s->q.act_scale = s->act_scale;
    s->q.w_scales = s->w_scales;
    s->q.n_w_scales = s->n_w_scales;
    s->q.kernel_quantized = s->kernel_quantized;
    *out = s;
    *keep = kp;
    return OCT_OK;
}

oct_status oct_sim_attach(oct_session *sess) {
    oct_sim *s = sess->sim;
    s->pool = sess->exec.x.pool;
    sess->observer = oct_sim_observe;
    sess->observer_user = s;
    return OCT_OK;
}

unsigned char *oct_sim_precision(oct_sim *s, int idx) { return s && idx >= 0 && idx < s->n ? &s->prec[idx] : NULL; }

float oct_sim_scale(const oct_sim *s, int idx) { return s && idx >= 0 && idx < s->n ? s->scale[idx] : 0.0f; }
