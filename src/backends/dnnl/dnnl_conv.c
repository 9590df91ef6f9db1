/* Conv and ConvTranspose on oneDNN, channels-last activations, weights
 * pre-packed once, with
 * the element-wise tail fused as post-ops: bias, then any chain of
 * Relu / LeakyRelu / Clip / HardSigmoid / HardSwish / Sigmoid / Tanh / SiLU
 * (Mul(x, Sigmoid(x)) as exporters write it) and a residual Add. */
#include <stdlib.h>
#include <string.h>

#include "backends/dnnl/dnnl_common.h"

typedef struct {
    oct_kernel base;
    oct_dnnl_prim p;
} conv_kernel;

static oct_status conv_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    conv_kernel *k = (conv_kernel *)kb;
    oct_tensor *y = oct_exec_tensor(x, k->base.out_values[0]);
    OCT_TRY(oct_exec_prepare_output(y, 0));
    return oct_dnnl_execute(&k->p, kb, x, err);
}

static void conv_destroy(oct_kernel *kb) {
    conv_kernel *k = (conv_kernel *)kb;
    oct_dnnl_prim_destroy(&k->p);
    free(k);
}

/* The single live consumer of value v, or -1 (none, several, or v is a
 * graph output and must be materialised). */
static int sole_consumer(const oct_exec *x, int v) {
    if (x->g->values[v].is_output) return -1;
    if (x->keep && v < x->keep_n && x->keep[v]) return -1;
    int c;
    return oct_exec_consumers(x, v, &c) == 1 ? c : -1;
}

static int const_scalar(const oct_graph *g, const oct_node *n, int input, float *out) {
    if (input >= n->n_in || n->in[input] < 0) return 0;
    const oct_value *v = &g->values[n->in[input]];
    if (!v->is_const || v->t.dtype != OCT_FLOAT || oct_numel(&v->t) != 1) return 0;
    *out = *(const float *)v->t.data;
    return 1;
}

/* Recognises an activation node consuming v; returns the number of
 * post-ops written (0: not an activation oneDNN fuses). */
static int activation(const oct_exec *x, const oct_node *n, oct_dnnl_post_op *po) {
    const oct_graph *g = x->g;
    const char *op = n->op_type;
    po[0].binary_value = po[1].binary_value = -1;
    if (n->dynamic || n->domain[0]) return 0;
    if (!strcmp(op, "Relu")) {
        po[0] = (oct_dnnl_post_op){dnnl_eltwise_relu, 0, 0, -1};
        return 1;
    }
    if (!strcmp(op, "LeakyRelu")) {
        po[0] = (oct_dnnl_post_op){dnnl_eltwise_relu, oct_attr_float(n, "alpha", 0.01f), 0, -1};
        return 1;
    }
    if (!strcmp(op, "Tanh")) {
        po[0] = (oct_dnnl_post_op){dnnl_eltwise_tanh, 0, 0, -1};
        return 1;
    }
    if (!strcmp(op, "Sigmoid")) {
        po[0] = (oct_dnnl_post_op){dnnl_eltwise_logistic, 0, 0, -1};
        return 1;
    }
    if (!strcmp(op, "HardSwish")) {
        po[0] = (oct_dnnl_post_op){dnnl_eltwise_hardswish, 0, 0, -1};
        return 1;
    }
    if (!strcmp(op, "HardSigmoid")) {
        po[0] = (oct_dnnl_post_op){dnnl_eltwise_linear, oct_attr_float(n, "alpha", 0.2f), oct_attr_float(n, "beta", 0.5f), -1};
        po[1] = (oct_dnnl_post_op){dnnl_eltwise_clip, 0.0f, 1.0f, -1};
        return 2;
    }
    if (!strcmp(op, "Clip")) {
        float lo = -3.4e38f, hi = 3.4e38f;
        if (n->opset < 11) {
            lo = oct_attr_float(n, "min", lo);
            hi = oct_attr_float(n, "max", hi);
        } else {
            if (n->n_in > 1 && n->in[1] >= 0 && !const_scalar(g, n, 1, &lo)) return 0;
            if (n->n_in > 2 && n->in[2] >= 0 && !const_scalar(g, n, 2, &hi)) return 0;
        }
        po[0] = (oct_dnnl_post_op){dnnl_eltwise_clip, lo, hi, -1};
        return 1;
    }
    return 0;
}

static int same_shape(const oct_tensor *a, const oct_tensor *b) { return oct_shape_equal(a, b) && a->dtype == b->dtype; }

static int is_q8(oct_dtype dt) { return dt == OCT_UINT8 || dt == OCT_INT8; }

/* w_input: the weight's input index. integer: a ConvInteger / QLinearConv
 * (uint8/int8 input and constant weights, no float bias; the caller reads
 * the other inputs itself), else a float Conv / ConvTranspose. */
static int conv_geometry(const oct_exec *x, int node, int w_input, int integer, oct_dnnl_conv_geom *gm) {
    memset(gm, 0, sizeof *gm);
    const oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    if (n->n_in <= w_input || n->in[0] < 0 || n->in[w_input] < 0 || n->n_out < 1 || n->out[0] < 0) return 0;
    const oct_value *X = &g->values[n->in[0]], *W = &g->values[n->in[w_input]], *Y = &g->values[n->out[0]];
    const oct_value *B = !integer && n->n_in > 2 && n->in[2] >= 0 ? &g->values[n->in[2]] : NULL;
    if (integer) {
        /* int8 codes of a float tensor (OCT_LAYOUT_NHWC_Q8) are not an
         * ONNX int8 tensor */
        if (!is_q8(X->t.dtype) || x->layout[n->in[0]] == OCT_LAYOUT_NHWC_Q8) return 0;
        if (X->t.ndim != 4 || !W->is_const || !W->t.data || !is_q8(W->t.dtype) || W->t.ndim != 4) return 0;
    } else {
        /* a float tensor may be kept as its int8 codes (OCT_LAYOUT_NHWC_Q8) */
        int x_float =
            X->t.dtype == OCT_FLOAT || (X->t.dtype == OCT_INT8 && x->layout[n->in[0]] == OCT_LAYOUT_NHWC_Q8);
        if (!x_float || X->t.ndim != 4 || !W->is_const || W->t.dtype != OCT_FLOAT || W->t.ndim != 4) return 0;
    }
    if (B && (!B->is_const || B->t.dtype != OCT_FLOAT)) return 0;
    if (!Y->shape_known || Y->t.ndim != 4) return 0;
    int64_t group = oct_attr_int(n, "group", 1);
    int deconv = !strcmp(n->op_type, "ConvTranspose");
    int64_t N = X->t.dims[0], C = X->t.dims[1], H = X->t.dims[2], Wd = X->t.dims[3];
    /* Conv weights are [OC, C/g, kh, kw]; ConvTranspose's are [C, OC/g, kh, kw]. */
    int64_t OC = deconv ? W->t.dims[1] * group : W->t.dims[0], KH = W->t.dims[2], KW = W->t.dims[3];
    int64_t OH = Y->t.dims[2], OW = Y->t.dims[3];
    if (group < 1 || C % group || OC % group || Y->t.dims[1] != OC) return 0;
    if (deconv ? W->t.dims[0] != C : W->t.dims[1] * group != C) return 0;
    const int64_t *v;
    int64_t strides[2] = {1, 1}, dil[2] = {1, 1}, pl[2] = {0, 0}, pr[2] = {0, 0};
    if (oct_attr_ints(n, "strides", &v) == 2) memcpy(strides, v, sizeof strides);
    if (oct_attr_ints(n, "dilations", &v) == 2) memcpy(dil, v, sizeof dil);
    const char *ap = oct_attr_str(n, "auto_pad", "NOTSET");
    int64_t in_sz[2] = {H, Wd}, out_sz[2] = {OH, OW}, k_sz[2] = {KH, KW};
    if (deconv && (strcmp(ap, "NOTSET") || oct_attr_find(n, "output_shape"))) return 0;
    if (!strcmp(ap, "NOTSET")) {
        if (oct_attr_ints(n, "pads", &v) == 4) {
            pl[0] = v[0];
            pl[1] = v[1];
            pr[0] = v[2];
            pr[1] = v[3];
        }
    } else if (strcmp(ap, "VALID")) {
        for (int i = 0; i < 2; i++) {
            int64_t total = (out_sz[i] - 1) * strides[i] + (k_sz[i] - 1) * dil[i] + 1 - in_sz[i];
            if (total < 0) total = 0;
            pl[i] = !strcmp(ap, "SAME_LOWER") ? total - total / 2 : total / 2;
            pr[i] = total - pl[i];
        }
    }
    /* oneDNN derives the output size from the right padding: make it match
     * the inferred shape exactly (for ConvTranspose this absorbs
     * output_padding). */
    for (int i = 0; i < 2; i++) {
        int64_t span = (k_sz[i] - 1) * dil[i] + 1;
        pr[i] = deconv ? (in_sz[i] - 1) * strides[i] + span - pl[i] - out_sz[i]
                       : (out_sz[i] - 1) * strides[i] + span - in_sz[i] - pl[i];
        /* the last window may end before the input does (the output size
         * rounds down): oneDNN's size formula rounds down too, so right
         * padding 0 gives the same output (integer kernels only, for now) */
        if (integer && !deconv && pr[i] < 0 && pr[i] > -strides[i]) pr[i] = 0;
        if (pr[i] < 0 || pl[i] < 0 || strides[i] < 1 || dil[i] < 1) return 0;
    }
    gm->deconv = deconv;
    gm->has_bias = B != NULL;
    gm->group = group;
    gm->N = N;
    gm->C = C;
    gm->H = H;
    gm->W = Wd;
    gm->OC = OC;
    gm->KH = KH;
    gm->KW = KW;
    gm->OH = OH;
    gm->OW = OW;
    memcpy(gm->strides, strides, sizeof strides);
    memcpy(gm->dil, dil, sizeof dil);
    memcpy(gm->pl, pl, sizeof pl);
    memcpy(gm->pr, pr, sizeof pr);
    return 1;
}

int oct_dnnl_conv_geometry(const oct_exec *x, int node, oct_dnnl_conv_geom *gm) {
    return conv_geometry(x, node, 1, 0, gm);
}

int oct_dnnl_conv_geometry_integer(const oct_exec *x, int node, int w_input, oct_dnnl_conv_geom *gm) {
    return conv_geometry(x, node, w_input, 1, gm);
}

int oct_dnnl_post_ops_has_alg(const oct_dnnl_post_op *ops, int n_ops, dnnl_alg_kind_t alg) {
    for (int i = 0; i < n_ops; i++)
        if (ops[i].binary_value < 0 && ops[i].alg == alg) return 1;
    return 0;
}

/* 1 when ops[n_ops .. n_ops + w) repeat an eltwise kind already in ops[0 ..
 * n_ops) or among themselves. oneDNN 2.6's x64 JIT post-op chains compute a
 * repeated eltwise kind with the first one's alpha/beta (measured: Clip(0, 2)
 * after Clip(-128, 127) does not clamp at 2; linear x4 then x0.25 gives x16),
 * so a chain never holds one kind twice. */
static int repeats(const oct_dnnl_post_op *ops, int n_ops, int w) {
    for (int i = n_ops; i < n_ops + w; i++)
        if (oct_dnnl_post_ops_has_alg(ops, i, ops[i].alg)) return 1;
    return 0;
}

int oct_dnnl_conv_fusion(const oct_exec *x, int node, oct_dnnl_post_op ops[8], int absorbed[8], int *n_absorbed,
                         int *out_value) {
    const oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    int n_ops = 0, n_abs = 0;
    int cur = n->out[0];
    for (int guard = 0; guard < 4 && n_ops < 6; guard++) {
        int c = sole_consumer(x, cur);
        int consumers = oct_exec_consumers(x, cur, NULL);
        const oct_node *cn = c >= 0 ? &g->nodes[c] : NULL;
        int w;
        if (cn && (w = activation(x, cn, &ops[n_ops])) > 0 && !repeats(ops, n_ops, w) && cn->n_out >= 1 &&
            cn->out[0] >= 0) {
            n_ops += w;
            absorbed[n_abs++] = c;
            cur = cn->out[0];
            continue;
        }
        /* SiLU: cur feeds exactly Sigmoid(cur) and Mul(cur, that). */
        if (consumers == 2 && !g->values[cur].is_output && !(x->keep && cur < x->keep_n && x->keep[cur]) &&
            !oct_dnnl_post_ops_has_alg(ops, n_ops, dnnl_eltwise_swish)) {
            int sig = -1, mul = -1;
            for (int i = 0; i < g->n_nodes; i++) {
                const oct_node *m = &g->nodes[i];
                if (m->dead || m->dynamic || m->domain[0]) continue;
                int uses = 0;
                for (int j = 0; j < m->n_in; j++) uses |= m->in[j] == cur;
                if (!uses) continue;
                if (!strcmp(m->op_type, "Sigmoid")) sig = i;
                else if (!strcmp(m->op_type, "Mul") && m->n_in == 2) mul = i;
            }
            if (sig >= 0 && mul >= 0 && sole_consumer(x, g->nodes[sig].out[0]) == mul) {
                const oct_node *m = &g->nodes[mul];
                int s = g->nodes[sig].out[0];
                if ((m->in[0] == cur && m->in[1] == s) || (m->in[1] == cur && m->in[0] == s)) {
                    ops[n_ops++] = (oct_dnnl_post_op){dnnl_eltwise_swish, 1.0f, 0, -1};
                    absorbed[n_abs++] = sig;
                    absorbed[n_abs++] = mul;
                    cur = m->out[0];
                    continue;
                }
            }
        }
        /* Residual Add with a tensor that is ready before this Conv runs. */
        if (cn && !strcmp(cn->op_type, "Add") && cn->n_in == 2 && !cn->dynamic && !cn->domain[0]) {
            int other = cn->in[0] == cur ? cn->in[1] : cn->in[0];
            if (other >= 0 && other != cur && same_shape(&g->values[other].t, &g->values[cur].t)) {
                int prod = g->values[other].producer;
                if (prod < node && !g->values[other].is_const) {
                    ops[n_ops++] = (oct_dnnl_post_op){dnnl_binary_add, 0, 0, other};
                    absorbed[n_abs++] = c;
                    cur = cn->out[0];
                    continue;
                }
            }
        }
        break;
    }

    *n_absorbed = n_abs;
    *out_value = cur;
    return n_ops;
}

void oct_dnnl_append_post_ops(dnnl_post_ops_t po, const oct_dnnl_post_op *ops, int n_ops,
                              const dnnl_memory_desc_t *dst_md) {
    for (int i = 0; i < n_ops; i++) {
        if (ops[i].binary_value >= 0)
            dnnl_post_ops_append_binary(po, dnnl_binary_add, dst_md);
        else
            dnnl_post_ops_append_eltwise(po, 1.0f, ops[i].alg, ops[i].alpha, ops[i].beta);
    }
}

/* The kernel's steps interface for a fused convolution (fp32 or int8): the
 * source and every residual input channels-last, one channels-last output. */
void oct_dnnl_conv_wire(oct_kernel *k, int node, int src, const int *absorbed, int n_abs,
                        const oct_dnnl_post_op *ops, int n_ops, int out) {
    k->node = node;
    k->n_absorbed = n_abs;
    memcpy(k->absorbed, absorbed, sizeof(int) * (size_t)n_abs);
    k->n_in = 1;
    k->in_values[0] = src;
    k->in_accept[0] = OCT_ACCEPT_NHWC;
    for (int i = 0; i < n_ops; i++)
        if (ops[i].binary_value >= 0) {
            k->in_values[k->n_in] = ops[i].binary_value;
            k->in_accept[k->n_in++] = OCT_ACCEPT_NHWC;
        }
    k->n_out = 1;
    k->out_values[0] = out;
    k->out_layout[0] = OCT_LAYOUT_NHWC;
}

oct_status oct_dnnl_conv_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    oct_graph *g = x->g;
    oct_node *n = &g->nodes[node];
    oct_dnnl_conv_geom gm;
    if (!oct_dnnl_conv_geometry(x, node, &gm)) return OCT_OK;
    const oct_value *W = &g->values[n->in[1]];
    const oct_value *B = gm.has_bias ? &g->values[n->in[2]] : NULL;
    int deconv = gm.deconv;
    int64_t group = gm.group, N = gm.N, C = gm.C, H = gm.H, Wd = gm.W, OC = gm.OC, KH = gm.KH, KW = gm.KW,
            OH = gm.OH, OW = gm.OW;
    const int64_t *strides = gm.strides, *dil = gm.dil, *pl = gm.pl, *pr = gm.pr;

    /* Fusion: follow the single-consumer chain after the convolution. */
    oct_dnnl_post_op ops[8];
    int absorbed[8], n_abs = 0, cur = -1;
    int n_ops = oct_dnnl_conv_fusion(x, node, ops, absorbed, &n_abs, &cur);

    oct_dnnl *d = x->dnnl;
    dnnl_memory_desc_t src_md, w_md, w_plain, b_md, dst_md;
    dnnl_dims_t sd = {N, C, H, Wd}, dd = {N, OC, OH, OW};
    dnnl_dims_t wd5 = {group, OC / group, C / group, KH, KW}, wd4 = {OC, C, KH, KW}, bd = {OC};
    dnnl_memory_desc_init_by_tag(&src_md, 4, sd, dnnl_f32, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, dnnl_f32, dnnl_nhwc);
    if (group > 1) {
        dnnl_memory_desc_init_by_tag(&w_md, 5, wd5, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&w_plain, 5, wd5, dnnl_f32, deconv ? dnnl_giohw : dnnl_goihw);
    } else {
        dnnl_memory_desc_init_by_tag(&w_md, 4, wd4, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&w_plain, 4, wd4, dnnl_f32, deconv ? dnnl_iohw : dnnl_oihw);
    }
    dnnl_memory_desc_init_by_tag(&b_md, 1, bd, dnnl_f32, dnnl_x);
    dnnl_dims_t ds = {strides[0], strides[1]}, dl = {dil[0] - 1, dil[1] - 1}, pdl = {pl[0], pl[1]},
                pdr = {pr[0], pr[1]};
    dnnl_convolution_desc_t cd;
    dnnl_status_t init_st =
        deconv ? dnnl_dilated_deconvolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_deconvolution_direct,
                                                              &src_md, &w_md, B ? &b_md : NULL, &dst_md, ds, dl,
                                                              pdl, pdr)
               : dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                                                            &src_md, &w_md, B ? &b_md : NULL, &dst_md, ds, dl,
                                                            pdl, pdr);
    if (init_st != dnnl_success) return OCT_OK;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_create(&attr);
    dnnl_post_ops_create(&po);
    oct_dnnl_append_post_ops(po, ops, n_ops, &dst_md);
    dnnl_primitive_attr_set_post_ops(attr, po);
    dnnl_status_t ds_ = dnnl_primitive_desc_create(&pd, &cd, attr, d->engine, NULL);
    dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    if (ds_ != dnnl_success) return OCT_OK;

    conv_kernel *k = calloc(1, sizeof *k);
    oct_status st = k ? OCT_OK : oct_fail(err, OCT_E_NOMEM, "out of memory");
    if (!st) st = oct_dnnl_prim_create(&k->p, pd, err);
    const dnnl_memory_desc_t *w_best = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_t wmem = NULL, bmem = NULL;
    if (!st) st = oct_dnnl_arg_slot(d, &k->p, DNNL_ARG_SRC, &src_md, OCT_SLOT_IN(0), err);
    if (!st) st = oct_dnnl_arg_owned(d, &k->p, DNNL_ARG_WEIGHTS, w_best, &wmem, err);
    if (!st) st = oct_dnnl_fill(d, wmem, &w_plain, W->t.data, err);
    if (!st && B) st = oct_dnnl_arg_owned(d, &k->p, DNNL_ARG_BIAS, &b_md, &bmem, err);
    if (!st && B) st = oct_dnnl_fill(d, bmem, &b_md, B->t.data, err);
    if (!st) st = oct_dnnl_arg_slot(d, &k->p, DNNL_ARG_DST, &dst_md, OCT_SLOT_OUT(0), err);
    int n_res = 0;
    for (int i = 0; !st && i < n_ops; i++)
        if (ops[i].binary_value >= 0) {
            n_res++;
            st = oct_dnnl_arg_slot(d, &k->p, DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1, &dst_md,
                                   OCT_SLOT_IN(n_res), err);
        }
    dnnl_primitive_desc_destroy(pd);
    if (st) {
        if (k) conv_destroy(&k->base);
        return st;
    }
    k->base.impl = k->p.impl;
    oct_dnnl_conv_wire(&k->base, node, n->in[0], absorbed, n_abs, ops, n_ops, cur);
    k->base.run = conv_run;
    k->base.destroy = conv_destroy;
    (void)n_res;
    *out = &k->base;
    return OCT_OK;
}
