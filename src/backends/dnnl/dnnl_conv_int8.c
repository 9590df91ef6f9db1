/* INT8 Conv and ConvTranspose on oneDNN for sessions that run a plan with
 * real INT8 kernels (oct_session_create_int8). Same results as the
 * simulation up to float rounding:
 *
 *   simulation  y = post_ops(conv(q_x * s_x, q_w * s_w[oc]) + b)   (fp32)
 *   here        y = post_ops(s_x * s_w[oc] * acc_s32 + b),
 *               acc_s32 = sum q_x * q_w                            (exact)
 *
 * (conv: a convolution or a deconvolution; the two differ only in the
 * oneDNN descriptor and in where the weight keeps its output channel, see
 * weight_codes; everything else below is the same code for both.)
 *
 * q_x are the input's int8 codes under the plan scale s_x. The session's
 * observer fake-quantizes every INT8 tensor where it is produced (as in the
 * simulation), so the input already holds q_x * s_x and oneDNN's reorder
 * x * (1 / s_x), rounded to nearest even and saturated, recovers q_x exactly
 * (the product is within a few float ulps of an integer <= 128). q_w and
 * s_w are the codes and scales of quant/weights.h: the graph holds the
 * fake-quantized weights and the simulation recorded the scales, one per
 * output channel (record_weight_scales in quant/simulate.c).
 *
 * Why u8 sources, and two passes for signed inputs: without VNNI, oneDNN's
 * x86 INT8 convolutions multiply with vpmaddubsw (u8 x s8 pairs summed with
 * signed 16-bit saturation). For an s8 source they shift it by 128 and halve
 * the weights (weights memory "scale_adjust" 0.5) so the pairs cannot
 * saturate, which rounds every odd weight code: 7-bit weights, not the
 * plan's. A u8 source of at most 128 with |q_w| <= 127 cannot saturate
 * (2 * 128 * 127 < 32767) and needs no adjustment (measured exact for
 * oneDNN 2.6's AVX2 u8 x s8 deconvolution too, jit_uni_deconv and the
 * grouped gemm_s8u8s32 one; codes up to 255 are not), so:
 *   - an input proven non-negative (Relu, Clip(min >= 0), Sigmoid,
 *     HardSigmoid produce it) runs as one u8 convolution;
 *   - any other input is split, q_x = p - n with p = max(q_x, 0) in 0..127
 *     and n = max(-q_x, 0) in 0..128, and runs as conv(p) then conv(n) with
 *     output scale -s_x * s_w[oc] and a sum post-op: twice the work, exact;
 *   - unless every weight code is within +-63 (plans with 7, 6 or 4-bit
 *     weights): then the s8 source runs in one pass, exactly, on the codes
 *     doubled (oneDNN halves them back without rounding) under half the
 *     output scale; u8 pairs of 255 * 63 cannot saturate.
 * oneDNN v2 applies the output scale to (acc + bias), so the bias is given
 * as b / (s_x * s_w[oc]) (f32). The fused tail (activations, SiLU, residual
 * Add) is the FP32 path's (oct_dnnl_conv_fusion), applied after the
 * scaling, so the kernel writes the same f32 tensor the simulation does.
 *
 * Between INT8 Convs the tensor stays int8 codes (OCT_LAYOUT_NHWC_Q8, see
 * dnnl_int8_q8.c): a Conv whose output only INT8 Convs read writes s8 (the
 * tail, then * (1 / s_y); oneDNN's conversion to s8 rounds to nearest even
 * and saturates, the simulation's fake quantization), and a Conv reading
 * codes uses them as they are (a non-negative input is already its u8
 * source) or splits them into p and n in one pass, without the f32
 * reorders. A signed input writing codes cannot use the sum post-op (it
 * would add onto rounded codes): its p pass writes f32 scratch, which the
 * n pass adds as a binary post-op before the tail. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_q8.h"
#include "backends/dnnl/dnnl_common.h"
#include "core/arith.h"

typedef struct {
    oct_kernel base;
    int split;             /* signed input: p and n passes */
    int s8src;             /* signed input, weights within +-63: one s8 pass */
    int q8_in;             /* the input is int8 codes (OCT_LAYOUT_NHWC_Q8) */
    oct_dnnl_prim q[2];    /* f32 -> u8 reorders: p, n (float input) */
    oct_dnnl_prim conv[2]; /* convolutions on p, n */
    int own_src;           /* sources converted here (into the backend's shared buffers) */
    size_t src_bytes;
    int q_to_arg[2], src_arg[2]; /* their arg indices in q[h], conv[h] */
    size_t scratch_bytes;        /* > 0: p pass -> shared f32 scratch (codes out, split) */
    int scratch_arg[2];          /* the scratch's arg index in conv[0], conv[1] */
    char impl[128];
} int8_kernel;

static oct_status int8_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    int8_kernel *k = (int8_kernel *)kb;
    oct_tensor *y = oct_exec_tensor(x, k->base.out_values[0]);
    OCT_TRY(oct_exec_prepare_output(y, 0));
    if (k->scratch_bytes) {
        oct_dnnl *d = x->dnnl;
        if (d->scratch_cap < k->scratch_bytes) {
            float *ns = realloc(d->scratch, k->scratch_bytes);
            if (!ns)
                return oct_fail(err, OCT_E_NOMEM,
                                "out of memory for the INT8 convolution's scratch");
            d->scratch = ns;
            d->scratch_cap = k->scratch_bytes;
        }
        for (int h = 0; h < 2; h++)
            dnnl_memory_set_data_handle(k->conv[h].args[k->scratch_arg[h]].memory, d->scratch);
    }
    if (k->own_src) {
        /* the kernels run one at a time: one pair of source buffers serves
         * them all, grown to the largest and rebound before each run */
        oct_dnnl *d = x->dnnl;
        for (int h = 0; h < 1 + k->split; h++) {
            if (d->src_cap[h] < k->src_bytes) {
                unsigned char *nb = realloc(d->src[h], k->src_bytes + 64);
                if (!nb)
                    return oct_fail(err, OCT_E_NOMEM,
                                    "out of memory for the INT8 convolution's source");
                d->src[h] = nb;
                d->src_cap[h] = k->src_bytes;
            }
            if (!k->q8_in)
                dnnl_memory_set_data_handle(k->q[h].args[k->q_to_arg[h]].memory, d->src[h]);
            dnnl_memory_set_data_handle(k->conv[h].args[k->src_arg[h]].memory, d->src[h]);
        }
    }
    if (k->q8_in && k->split)
        oct_dnnl_q8_split(x->pool, oct_exec_tensor(x, kb->in_values[0])->data,
                          ((oct_dnnl *)x->dnnl)->src[0], ((oct_dnnl *)x->dnnl)->src[1],
                          (int64_t)k->src_bytes);
    for (int h = 0; h < 1 + k->split; h++) {
        if (!k->q8_in) OCT_TRY(oct_dnnl_execute(&k->q[h], kb, x, err));
        OCT_TRY(oct_dnnl_execute(&k->conv[h], kb, x, err));
    }
    return OCT_OK;
}

static void int8_destroy(oct_kernel *kb) {
    int8_kernel *k = (int8_kernel *)kb;
    for (int h = 0; h < 2; h++) {
        oct_dnnl_prim_destroy(&k->q[h]);
        oct_dnnl_prim_destroy(&k->conv[h]);
    }
    free(k);
}

oct_status oct_dnnl_arg_buffer(oct_dnnl *d, oct_dnnl_prim *p, int arg, const dnnl_memory_desc_t *md,
                               void *buf, oct_error *err) {
    if (p->n_args >= OCT_DNNL_MAX_ARGS)
        return oct_fail(err, OCT_E_RUNTIME, "too many oneDNN arguments");
    dnnl_memory_t m;
    OCT_TRY(oct_dnnl_check(dnnl_memory_create(&m, md, d->engine, buf), "memory", NULL, err));
    p->args[p->n_args].arg = arg;
    p->args[p->n_args].memory = m;
    p->arg_slot[p->n_args] = -1;
    p->n_args++;
    return OCT_OK;
}

static int const_scalar_ge0(const oct_graph *g, const oct_node *n, int input) {
    if (input >= n->n_in || n->in[input] < 0) return 0;
    const oct_value *v = &g->values[n->in[input]];
    if (!v->is_const || v->t.dtype != OCT_FLOAT || oct_numel(&v->t) != 1 || !v->t.data) return 0;
    return *(const float *)v->t.data >= 0;
}

/* 1 when a Q/DQ node's zero point (input 2) is absent or constant zeros. */
static int zero_point_zero(const oct_graph *g, const oct_node *n) {
    if (n->n_in < 3 || n->in[2] < 0) return 1;
    const oct_value *z = &g->values[n->in[2]];
    if (!z->is_const || !z->t.data || oct_dtype_size(z->t.dtype) != 1) return 0;
    for (int64_t i = 0; i < oct_numel(&z->t); i++)
        if (((const char *)z->t.data)[i]) return 0;
    return 1;
}

int oct_dnnl_nonnegative(const oct_graph *g, int v) {
    int p = g->values[v].producer;
    if (p < 0) return 0;
    const oct_node *n = &g->nodes[p];
    if (n->domain[0] || n->n_out < 1 || n->out[0] != v) return 0;
    /* a Q/DQ model: DequantizeLinear(QuantizeLinear(y)) with zero points 0
     * is >= 0 where y is */
    if (!strcmp(n->op_type, "DequantizeLinear") && n->in[0] >= 0 && zero_point_zero(g, n)) {
        int q = g->values[n->in[0]].producer;
        const oct_node *qn = q >= 0 ? &g->nodes[q] : NULL;
        return qn && !qn->domain[0] && !strcmp(qn->op_type, "QuantizeLinear") && qn->in[0] >= 0 &&
               zero_point_zero(g, qn) && oct_dnnl_nonnegative(g, qn->in[0]);
    }
    if (!strcmp(n->op_type, "Relu") || !strcmp(n->op_type, "Sigmoid") ||
        !strcmp(n->op_type, "HardSigmoid"))
        return 1;
    if (!strcmp(n->op_type, "Clip")) {
        if (n->opset < 11) return oct_attr_float(n, "min", -1.0f) >= 0;
        return const_scalar_ge0(g, n, 1);
    }
    return 0;
}

oct_status oct_dnnl_int8_quantize(oct_dnnl *d, oct_dnnl_prim *p, const dnnl_memory_desc_t *f32_md,
                                  const dnnl_memory_desc_t *u8_md, float scale, void *buf,
                                  const char *node, oct_error *err) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    OCT_TRY(oct_dnnl_check(dnnl_primitive_attr_create(&attr), "attribute", node, err));
    oct_status st = oct_dnnl_check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale),
                                   "reorder scale", node, err);
    if (!st)
        st = oct_dnnl_check(
            dnnl_reorder_primitive_desc_create(&rpd, f32_md, d->engine, u8_md, d->engine, attr),
            "int8 quantize reorder", node, err);
    dnnl_primitive_attr_destroy(attr);
    if (!st) st = oct_dnnl_prim_create(p, rpd, err);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (!st) st = oct_dnnl_arg_slot(d, p, DNNL_ARG_FROM, f32_md, OCT_SLOT_IN(0), err);
    if (!st) st = oct_dnnl_arg_buffer(d, p, DNNL_ARG_TO, u8_md, buf, err);
    return st;
}

/* The int8 codes of the (fake-quantized) weight, in its ONNX layout, each
 * under its output channel's scale. Group gi's block is contiguous in both
 * layouts: Conv's [OC/g][C/g][taps] keeps the output channel outermost,
 * ConvTranspose's [C/g][OC/g][taps] second, and its output channel
 * gi * OC/g + j is index j of that block. */
static void weight_codes(const oct_dnnl_conv_geom *gm, const float *w, const float *s_w,
                         int8_t *q) {
    size_t G = (size_t)gm->group, cg = (size_t)(gm->C / gm->group),
           ocg = (size_t)(gm->OC / gm->group), taps = (size_t)(gm->KH * gm->KW);
    size_t outer = gm->deconv ? cg : 1, inner = gm->deconv ? taps : cg * taps;
    for (size_t gi = 0; gi < G; gi++)
        oct_quantize_s8_channels(w + gi * cg * ocg * taps, q + gi * cg * ocg * taps, outer, ocg,
                                 inner, s_w + gi * ocg);
}

oct_status oct_dnnl_conv_int8_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    const oct_exec_int8 *q8 = x->int8;
    oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    if (!q8 || node >= q8->n_nodes || !q8->w_scales[node] ||
        (strcmp(n->op_type, "Conv") && strcmp(n->op_type, "ConvTranspose")))
        return OCT_OK;
    if (n->n_in < 2 || n->in[0] < 0 || n->in[0] >= q8->n_values) return OCT_OK;
    float s_x = q8->act_scale[n->in[0]];
    if (!(s_x > 0)) return OCT_OK; /* input not a symmetric int8 tensor: simulated */
    oct_dnnl_conv_geom gm;
    if (!oct_dnnl_conv_geometry(x, node, &gm) || q8->n_w_scales[node] != gm.OC) return OCT_OK;
    const float *s_w = q8->w_scales[node];
    const oct_value *W = &g->values[n->in[1]];
    const oct_value *B = gm.has_bias ? &g->values[n->in[2]] : NULL;

    oct_dnnl_post_op ops[12]; /* the fused tail (<= 8) and the output quantization (4) */
    int absorbed[8], n_abs = 0, cur = -1;
    int n_ops = oct_dnnl_conv_fusion(x, node, ops, absorbed, &n_abs, &cur);
    int nonneg = oct_dnnl_nonnegative(g, n->in[0]);
    /* An INT8 output: fake-quantize it in the post-ops, as the observer
     * would: clamp(round_half_even(y * (1 / s_y)), -128, 127) * s_y, saving
     * the observer's pass over the tensor. The product by the reciprocal can
     * differ from y / s_y in the last bit, which moves a value sitting on a
     * rounding tie by one step, the same kind of difference as the
     * accumulation order (see the top). Each eltwise kind at most once per
     * chain (oct_dnnl_post_ops_has_alg): clip_v2 for the clamp, pow(x, 1)
     * scaled by s_y for the last product; a tail that already has a linear
     * or round leaves the quantization to the observer. */
    float s_y = cur < q8->n_values ? q8->act_scale[cur] : 0;
    int q8_in = x->layout[n->in[0]] == OCT_LAYOUT_NHWC_Q8, q8_out = 0;
    if (s_y > 0 && !gm.deconv && n_ops < 12 && oct_q8_output(x, cur) &&
        !oct_dnnl_post_ops_has_alg(ops, n_ops, dnnl_eltwise_linear)) {
        ops[n_ops++] = (oct_dnnl_post_op){dnnl_eltwise_linear, 1.0f / s_y, 0, -1};
        q8_out = 1;
    } else if (s_y > 0 && n_ops + 4 <= 12 &&
               !oct_dnnl_post_ops_has_alg(ops, n_ops, dnnl_eltwise_linear) &&
               !oct_dnnl_post_ops_has_alg(ops, n_ops, dnnl_eltwise_round) &&
               !oct_dnnl_post_ops_has_alg(ops, n_ops, dnnl_eltwise_clip_v2) &&
               !oct_dnnl_post_ops_has_alg(ops, n_ops, dnnl_eltwise_pow)) {
        ops[n_ops++] = (oct_dnnl_post_op){dnnl_eltwise_linear, 1.0f / s_y, 0, -1};
        ops[n_ops++] = (oct_dnnl_post_op){dnnl_eltwise_round, 0, 0, -1};
        ops[n_ops++] = (oct_dnnl_post_op){dnnl_eltwise_clip_v2, -128.0f, 127.0f, -1};
        ops[n_ops++] = (oct_dnnl_post_op){dnnl_eltwise_pow, s_y, 1.0f, -1};
    } else {
        s_y = 0;
    }

    oct_dnnl *d = x->dnnl;
    int64_t G = gm.group, OC = gm.OC, C = gm.C;
    dnnl_memory_desc_t f32_md, w_md, w_plain, b_md, dst_md, y32_md;
    dnnl_dims_t sd = {gm.N, C, gm.H, gm.W}, dd = {gm.N, OC, gm.OH, gm.OW};
    dnnl_dims_t wd5 = {G, OC / G, C / G, gm.KH, gm.KW}, wd4 = {OC, C, gm.KH, gm.KW}, bd = {OC};
    dnnl_memory_desc_init_by_tag(&f32_md, 4, sd, dnnl_f32, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, q8_out ? dnnl_s8 : dnnl_f32, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(&y32_md, 4, dd, dnnl_f32, dnnl_nhwc); /* residuals, scratch */
    /* the codes keep the ONNX layout (weight_codes): oneDNN's logical
     * weights are (g)oihw for both kinds, ConvTranspose's plain order is
     * (g)iohw, as in the FP32 kernel */
    if (G > 1) {
        dnnl_memory_desc_init_by_tag(&w_md, 5, wd5, dnnl_s8, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&w_plain, 5, wd5, dnnl_s8,
                                     gm.deconv ? dnnl_giohw : dnnl_goihw);
    } else {
        dnnl_memory_desc_init_by_tag(&w_md, 4, wd4, dnnl_s8, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&w_plain, 4, wd4, dnnl_s8, gm.deconv ? dnnl_iohw : dnnl_oihw);
    }
    dnnl_memory_desc_init_by_tag(&b_md, 1, bd, dnnl_f32, dnnl_x);
    dnnl_dims_t ds = {gm.strides[0], gm.strides[1]}, dl = {gm.dil[0] - 1, gm.dil[1] - 1},
                pdl = {gm.pl[0], gm.pl[1]}, pdr = {gm.pr[0], gm.pr[1]};

    /* Output scales s_x * s_w[oc] (negated for the n pass), the bias in
     * accumulator units, the int8 weight codes. */
    size_t per_oc = (size_t)(C / G * gm.KH * gm.KW);
    float *scales = malloc(sizeof(float) * 2 * (size_t)OC);
    float *bias = B ? malloc(sizeof(float) * (size_t)OC) : NULL;
    int8_t *codes = malloc((size_t)OC * per_oc + 1);
    int8_kernel *k = calloc(1, sizeof *k);
    size_t src_bytes = (size_t)(gm.N * C * gm.H * gm.W);
    /* the weight codes first: their range decides how a signed input runs */
    int wmax = 0;
    if (codes) {
        weight_codes(&gm, W->t.data, s_w, codes);
        for (size_t i = 0; i < (size_t)OC * per_oc; i++)
            wmax = abs(codes[i]) > wmax ? abs(codes[i]) : wmax;
    }
    int s8src = !nonneg && wmax <= 63, split = !nonneg && !s8src;
    if (s8src)
        for (size_t i = 0; i < (size_t)OC * per_oc; i++)
            codes[i] = (int8_t)(2 * codes[i]);
    int own_src = !q8_in || split; /* else the codes are the source as they are */
    if (k) {
        k->own_src = own_src;
        k->src_bytes = src_bytes;
        k->q8_in = q8_in;
        if (split && q8_out) k->scratch_bytes = sizeof(float) * (size_t)(gm.N * OC * gm.OH * gm.OW);
    }
    oct_status st = OCT_OK;
    if (!scales || (B && !bias) || !codes || !k)
        st = oct_fail(err, OCT_E_NOMEM, "node '%s': out of memory for the INT8 convolution",
                      n->name);
    for (int64_t c = 0; !st && c < OC; c++) {
        scales[c] = s_x * s_w[c] * (s8src ? 0.5f : 1.0f); /* exact: a power of 2 */
        scales[OC + c] = -scales[c];
        /* s_x * s_w underflowing (or overflowing) float: the simulation
         * runs the node instead */
        if (!isnormal(scales[c])) st = OCT_E_UNSUPPORTED;
        if (!st && B) bias[c] = ((const float *)B->t.data)[c] / scales[c];
    }
    /* s8 source: the codes (doubled above) in one pass; u8 otherwise */
    dnnl_memory_desc_t src_md;
    dnnl_memory_desc_init_by_tag(&src_md, 4, sd, s8src ? dnnl_s8 : dnnl_u8, dnnl_nhwc);
    if (k) k->split = split;
    int n_res = 0;
    for (int h = 0; !st && h < 1 + split; h++) {
        /* the p pass carries the bias; the n pass adds onto it, then the tail */
        if (!q8_in)
            st = oct_dnnl_int8_quantize(d, &k->q[h], &f32_md, &src_md, h ? -1.0f / s_x : 1.0f / s_x,
                                        NULL, n->name, err);
        if (!q8_in) k->q_to_arg[h] = k->q[h].n_args - 1; /* bound at run time */
        if (st) break;
        dnnl_convolution_desc_t cd;
        int with_bias = B && h == 0, to_scratch = k->scratch_bytes && h == 0;
        const dnnl_memory_desc_t *bp = with_bias ? &b_md : NULL,
                                 *yp = to_scratch ? &y32_md : &dst_md;
        dnnl_status_t init =
            gm.deconv
                ? dnnl_dilated_deconvolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                               dnnl_deconvolution_direct, &src_md,
                                                               &w_md, bp, yp, ds, dl, pdl, pdr)
                : dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                             dnnl_convolution_direct, &src_md,
                                                             &w_md, bp, yp, ds, dl, pdl, pdr);
        if (init != dnnl_success) {
            st = OCT_E_UNSUPPORTED;
            break;
        }
        dnnl_primitive_attr_t attr = NULL;
        dnnl_post_ops_t po = NULL;
        dnnl_primitive_desc_t pd = NULL;
        dnnl_primitive_attr_create(&attr);
        dnnl_post_ops_create(&po);
        dnnl_primitive_attr_set_output_scales(attr, OC, 1 << 1, scales + (h ? OC : 0));
        int tail = !split || h == 1, first_op = 0;
        if (split && h == 1) {
            if (k->scratch_bytes)
                dnnl_post_ops_append_binary(po, dnnl_binary_add, &y32_md);
            else
                dnnl_post_ops_append_sum(po, 1.0f);
            first_op = 1;
        }
        if (tail) oct_dnnl_append_post_ops(po, ops, n_ops, &y32_md);
        dnnl_primitive_attr_set_post_ops(attr, po);
        dnnl_status_t pst = dnnl_primitive_desc_create(&pd, &cd, attr, d->engine, NULL);
        dnnl_post_ops_destroy(po);
        dnnl_primitive_attr_destroy(attr);
        if (pst != dnnl_success) {
            st = OCT_E_UNSUPPORTED; /* oneDNN has no INT8 kernel for it: simulated FP32 instead */
            break;
        }
        const dnnl_memory_desc_t *w_best =
            dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        if ((w_best->extra.flags & dnnl_memory_extra_flag_scale_adjust) && !s8src) {
            /* would round the weight codes (see the top of the file) */
            dnnl_primitive_desc_destroy(pd);
            st = OCT_E_UNSUPPORTED;
            break;
        }
        dnnl_memory_t wmem = NULL, bmem = NULL;
        st = oct_dnnl_prim_create(&k->conv[h], pd, err);
        if (!st && own_src) {
            k->src_arg[h] = k->conv[h].n_args; /* bound at run time */
            st = oct_dnnl_arg_buffer(d, &k->conv[h], DNNL_ARG_SRC, &src_md, NULL, err);
        } else if (!st) /* the codes as they are (non-negative ones read as u8) */
            st = oct_dnnl_arg_slot(d, &k->conv[h], DNNL_ARG_SRC, &src_md, OCT_SLOT_IN(0), err);
        if (!st) st = oct_dnnl_arg_owned(d, &k->conv[h], DNNL_ARG_WEIGHTS, w_best, &wmem, err);
        if (!st) st = oct_dnnl_fill(d, wmem, &w_plain, codes, err);
        if (!st && with_bias)
            st = oct_dnnl_arg_owned(d, &k->conv[h], DNNL_ARG_BIAS, &b_md, &bmem, err);
        if (!st && with_bias) st = oct_dnnl_fill(d, bmem, &b_md, bias, err);
        if (!st && to_scratch) { /* bound to the shared scratch at run time */
            k->scratch_arg[0] = k->conv[h].n_args;
            st = oct_dnnl_arg_buffer(d, &k->conv[h], DNNL_ARG_DST, &y32_md, NULL, err);
        } else if (!st) {
            st = oct_dnnl_arg_slot(d, &k->conv[h], DNNL_ARG_DST, &dst_md, OCT_SLOT_OUT(0), err);
        }
        if (!st && k->scratch_bytes && h == 1) {
            k->scratch_arg[1] = k->conv[h].n_args;
            st = oct_dnnl_arg_buffer(d, &k->conv[h],
                                     DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, &y32_md,
                                     NULL, err);
        }
        n_res = 0;
        for (int i = 0; !st && tail && i < n_ops; i++)
            if (ops[i].binary_value >= 0) {
                n_res++;
                st = oct_dnnl_arg_slot(
                    d, &k->conv[h], DNNL_ARG_ATTR_MULTIPLE_POST_OP(i + first_op) | DNNL_ARG_SRC_1,
                    &y32_md, OCT_SLOT_IN(n_res), err);
            }
        dnnl_primitive_desc_destroy(pd);
    }
    free(scales);
    free(bias);
    free(codes);
    if (st) {
        if (k) int8_destroy(&k->base);
        /* oneDNN declining is not an error: the FP32 kernel runs the
         * simulation of this node instead */
        return st == OCT_E_UNSUPPORTED ? OCT_OK : st;
    }
    const char *impl = k->conv[0].impl;
    if (!strncmp(impl, "dnnl:", 5)) impl += 5;
    snprintf(k->impl, sizeof k->impl, "dnnl:int8:%s%s%s%s", impl,
             split   ? ":pn"
             : s8src ? ":s8"
                     : "",
             q8_in ? ":q8in" : "", q8_out ? ":q8out" : "");
    k->base.impl = k->impl;
    oct_dnnl_conv_wire(&k->base, node, n->in[0], absorbed, n_abs, ops, n_ops, cur);
    if (q8_in) k->base.in_accept[0] = OCT_ACCEPT_NHWC_Q8;
    if (q8_out) k->base.out_layout[0] = OCT_LAYOUT_NHWC_Q8;
    k->base.run = int8_run;
    k->base.destroy = int8_destroy;
    if (s_y > 0) q8->kernel_quantized[cur] = 1;
    *out = &k->base;
    return OCT_OK;
}
