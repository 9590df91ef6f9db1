/* Q/DQ export, weights: int8 copies behind DequantizeLinear for the int8
 * Conv/ConvTranspose/MatMul/Gemm nodes, and BatchNormalization folded into
 * the int8 Convs first, as octet's session folds it, so that the weights
 * the export quantizes are the ones the simulation quantizes. 4- and 6-bit
 * plans are stored the same way: int8 codes within -qmax..qmax and the
 * matching scales, which DequantizeLinear reads like any int8 weight. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/export_internal.h"
#include "quant/weights.h"

static int default_domain(const Onnx__NodeProto *n) {
    return !n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx");
}

static int int8_node(const oct_qx *x, const char *key) {
    int pi = key ? oct_plan_find_node(x->plan, key) : -1;
    return pi >= 0 && x->plan->nodes[pi].precision == OCT_PREC_INT8;
}

/* ---- BatchNormalization folding ---- */

static size_t readers(const oct_qx *x, const char *name) {
    size_t n = 0;
    for (size_t i = 0; i < x->nodes.n; i++)
        for (size_t k = 0; x->nodes.v[i].np && k < x->nodes.v[i].np->n_input; k++)
            n += !strcmp(x->nodes.v[i].np->input[k], name);
    return n;
}

/* The values of a constant float tensor of exactly n elements (malloc'ed),
 * or NULL. */
static float *const_values(oct_qx *x, const char *name, size_t n) {
    const Onnx__TensorProto *tp = oct_qx_constant(x, name);
    float *v = NULL;
    size_t cnt = 0;
    oct_error e;
    if (!tp || pe_tensor_floats(tp, &v, &cnt, &e)) return NULL;
    if (cnt != n) {
        free(v);
        return NULL;
    }
    return v;
}

static void mark_replaced(oct_qx *x, const char *name) {
    oct_qx_tensor *t = oct_qx_find(x, name, 0);
    if (t) t->replaced = 1;
}

/* Conv (int8, constant weights) -> BatchNormalization (its only reader,
 * inference form): the Conv gets W * s and (b - mean) * s + beta with
 * s = gamma / sqrt(var + eps), in float and in the order of
 * oct_pass_fold_batchnorm, and writes the BatchNormalization's output.
 * Returns 1 when folded, 0 when the pattern does not apply, -1 when out of
 * memory. */
static int fold_one(oct_qx *x, Onnx__NodeProto *bn) {
    if (!default_domain(bn) || strcmp(bn->op_type, "BatchNormalization") || bn->n_input < 5 ||
        bn->n_output < 1 || !*bn->output[0])
        return 0;
    for (size_t k = 1; k < bn->n_output; k++)
        if (*bn->output[k]) return 0;
    oct_qx_tensor *t = oct_qx_find(x, bn->input[0], 0);
    if (!t || !t->producer || t->is_output || t->plan >= 0) return 0;
    Onnx__NodeProto *conv = t->producer;
    const char *key = NULL;
    for (size_t i = 0; i < x->nodes.n; i++)
        if (x->nodes.v[i].np == conv) key = x->nodes.v[i].key;
    if (!default_domain(conv) || strcmp(conv->op_type, "Conv") || conv->n_input < 2 || !int8_node(x, key) ||
        readers(x, bn->input[0]) != 1)
        return 0;
    const Onnx__TensorProto *wt = oct_qx_constant(x, conv->input[1]);
    if (!wt || wt->n_dims < 3 || wt->n_dims > OCT_MAX_DIMS || wt->dims[0] <= 0) return 0;
    float *w = NULL;
    size_t nw = 0;
    oct_error e;
    if (pe_tensor_floats(wt, &w, &nw, &e)) return 0;
    size_t oc = (size_t)wt->dims[0], per = nw / oc;
    const char *bname = conv->n_input > 2 && *conv->input[2] ? conv->input[2] : NULL;
    float *bias = bname ? const_values(x, bname, oc) : NULL;
    float *p[4];
    int ok = !bname || bias;
    for (int k = 0; k < 4; k++) {
        p[k] = ok ? const_values(x, bn->input[k + 1], oc) : NULL;
        ok = ok && p[k];
    }
    const Onnx__AttributeProto *ea = pe_attr_find(bn, "epsilon");
    float eps = ea ? ea->f : 1e-5f;
    int r = 0;
    float *dw = ok ? malloc(nw * sizeof *dw) : NULL, *db = ok ? malloc(oc * sizeof *db) : NULL;
    if (ok && (!dw || !db)) r = -1;
    if (ok && dw && db) {
        const float *gam = p[0], *bet = p[1], *mean = p[2], *var = p[3];
        for (size_t o = 0; o < oc; o++) {
            float s = gam[o] / sqrtf(var[o] + eps);
            for (size_t k = 0; k < per; k++) dw[o * per + k] = w[o * per + k] * s;
            db[o] = ((bias ? bias[o] : 0.0f) - mean[o]) * s + bet[o];
        }
        oct_pedit *pe = &x->pe;
        int64_t c = (int64_t)oc;
        char *wn = pe_unique(pe, conv->input[1], "_bnfolded");
        char *bn_name = pe_unique(pe, bname ? bname : bn->input[2], "_bnfolded");
        /* the folded float weight is only read by the quantizer: it is
         * registered as a constant but never written to the model */
        Onnx__TensorProto *fw = wn ? pe_tensor(pe, wn, OCT_FLOAT, (int)wt->n_dims, wt->dims, dw, nw * sizeof *dw)
                                   : NULL;
        oct_qx_tensor *ft = fw ? oct_qx_find(x, wn, 1) : NULL;
        const char *orig_w = conv->input[1];
        char *ins[3] = {conv->input[0], wn, bn_name};
        if (!ft || !bn_name || !oct_qx_push_init(x, pe_tensor(pe, bn_name, OCT_FLOAT, 1, &c, db, oc * sizeof *db)) ||
            pe_set_inputs(pe, conv, 3, ins) || PE_SET(pe, conv->output[0], bn->output[0])) {
            r = -1;
        } else {
            ft->init = fw;
            ft->replaced = 1;
            mark_replaced(x, orig_w);
            if (bname) mark_replaced(x, bname);
            for (size_t k = 1; k < 5; k++) mark_replaced(x, bn->input[k]);
            r = 1;
        }
    }
    free(w);
    free(bias);
    for (int k = 0; k < 4; k++) free(p[k]);
    free(dw);
    free(db);
    return r;
}

oct_status oct_qx_fold_bn(oct_qx *x) {
    /* a subgraph may read the Conv's output by its outer name */
    for (size_t i = 0; i < x->nodes.n; i++)
        for (size_t a = 0; a < x->nodes.v[i].np->n_attribute; a++)
            if (x->nodes.v[i].np->attribute[a]->g || x->nodes.v[i].np->attribute[a]->n_graphs) return OCT_OK;
    size_t k = 0;
    for (size_t i = 0; i < x->nodes.n; i++) {
        Onnx__NodeProto *np = x->nodes.v[i].np;
        int r = fold_one(x, np);
        if (r < 0) return oct_qx_nomem(x);
        if (r == 0) x->nodes.v[k++] = x->nodes.v[i];
    }
    x->nodes.n = k;
    return OCT_OK;
}

/* ---- int8 weights ---- */

/* Makes "<w>_quantized" (int8 codes of the plan's weight_bits), its scales
 * and zero points and the DequantizeLinear reading them; returns the
 * DequantizeLinear output. */
static oct_status quantize_weight(oct_qx *x, const char *wname, const Onnx__TensorProto *tp, int axis,
                                  char **dq_out) {
    oct_pedit *pe = &x->pe;
    if (tp->n_dims > OCT_MAX_DIMS)
        return oct_fail(x->err, OCT_E_UNSUPPORTED, "weight '%s' has rank %zu", wname, tp->n_dims);
    int ndim = (int)tp->n_dims;
    float *w = NULL;
    size_t n = 0;
    OCT_TRY(pe_tensor_floats(tp, &w, &n, x->err));
    size_t nc = oct_weight_n_scales(ndim, tp->dims, axis);
    int8_t *q = malloc(n ? n : 1);
    float *scales = malloc((nc ? nc : 1) * sizeof *scales);
    int8_t *zeros = calloc(nc ? nc : 1, 1);
    oct_status st = !q || !scales || !zeros ? oct_qx_nomem(x) : OCT_OK;
    if (!st)
        st = oct_weight_quantize_bits(w, ndim, tp->dims, axis, oct_plan_weight_bits(x->plan), q,
                                      scales, x->err);
    if (!st) {
        int64_t c = (int64_t)nc;
        int sd = axis >= 0 ? 1 : 0;
        char *qn = pe_unique(pe, wname, "_quantized");
        char *sn = pe_unique(pe, wname, "_scale");
        char *zn = pe_unique(pe, wname, "_zero_point");
        char *dn = pe_unique(pe, wname, "_DequantizeLinear_Output");
        char *nn = pe_unique(pe, wname, "_DequantizeLinear");
        if (qn && sn && zn && dn && nn && oct_qx_push_init(x, pe_tensor(pe, qn, OCT_INT8, ndim, tp->dims, q, n)) &&
            oct_qx_push_init(x, pe_tensor(pe, sn, OCT_FLOAT, sd, &c, scales, nc * sizeof *scales)) &&
            oct_qx_push_init(x, pe_tensor(pe, zn, OCT_INT8, sd, &c, zeros, nc))) {
            const char *in[3] = {qn, sn, zn}, *out[1] = {dn};
            Onnx__NodeProto *d = pe_node(pe, "DequantizeLinear", nn, 3, in, 1, out);
            if (!d || (axis >= 0 && pe_attr_add(pe, d, pe_attr_int(pe, "axis", axis))) ||
                oct_pvec_push(&x->head, d))
                pe->nomem = 1;
            *dq_out = dn;
        }
        if (pe->nomem) st = oct_qx_nomem(x);
    }
    free(w);
    free(q);
    free(scales);
    free(zeros);
    return st;
}

oct_status oct_qx_weights(oct_qx *x) {
    for (size_t i = 0; i < x->nodes.n; i++) {
        const oct_xnode *xn = &x->nodes.v[i];
        Onnx__NodeProto *np = xn->np;
        if (!int8_node(x, xn->key) || !default_domain(np)) continue;
        int wi = oct_weight_input(np->op_type);
        if (wi < 0 || (size_t)wi >= np->n_input) continue;
        const char *wname = np->input[wi];
        const Onnx__TensorProto *tp = oct_qx_constant(x, wname);
        if (!tp) continue; /* weights computed at run time are activations */
        int axis = oct_weight_channel_axis(np->op_type, (int)tp->n_dims, oct_qx_attr_int(np, "group", 1),
                                           oct_qx_attr_int(np, "transB", 0), x->plan->weights);
        char *dq = NULL;
        for (size_t k = 0; k < x->n_wc && !dq; k++)
            if (x->wc[k].axis == axis && !strcmp(x->wc[k].weight, wname)) dq = x->wc[k].dq;
        if (!dq) {
            oct_status st = quantize_weight(x, wname, tp, axis, &dq);
            if (st) {
                oct_error_prefix(x->err, "node '%s': ", xn->key);
                return st;
            }
            oct_qx_wcache *wc = realloc(x->wc, (x->n_wc + 1) * sizeof *wc);
            if (!wc) return oct_qx_nomem(x);
            x->wc = wc;
            wc[x->n_wc++] = (oct_qx_wcache){wname, axis, dq};
        }
        oct_qx_tensor *t = oct_qx_find(x, wname, 0);
        if (t) t->replaced = 1;
        if (PE_SET(&x->pe, np->input[wi], dq)) return oct_qx_nomem(x);
    }
    return OCT_OK;
}
