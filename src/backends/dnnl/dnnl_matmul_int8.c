/* INT8 MatMul and Gemm on oneDNN for sessions that run a plan with real INT8
 * kernels (oct_session_create_int8), the matrix-product sibling of
 * dnnl_conv_int8.c, whose top comment holds the reasoning both share:
 *
 *   simulation  y = (q_x * s_x) x (q_w * s_w[n]) + b                (fp32)
 *   here        y = s_x * s_w[n] * acc_s32 + b,  acc_s32 = q_x x q_w (exact)
 *
 * Taken: MatMul A [.., M, K] x B [K, N], and Gemm A [M, K] x B [K, N] (or
 * [N, K] with transB) + C [N] (or [1, N]) with transA 0, alpha 1 and beta 1,
 * where the plan makes the node INT8 (so the simulation recorded B's scales,
 * one per output column n or one for the tensor), A is a symmetric int8
 * plan tensor and B (and C) are constant. MatMul's leading A axes fold into
 * M: B is one 2-D matrix for all of them. Anything else declines, and the
 * FP32 kernel runs the simulation of the node.
 *
 * As in the Conv, oneDNN gets u8 sources of at most 128: its AVX2 int8
 * matmul (gemm:jit, no VNNI) sums u8 x s8 pairs in saturating 16-bit
 * arithmetic, and an s8 source, which it shifts by 128 to u8, saturates
 * there (measured: wrong results for codes near +-127 with 7-bit weights).
 * A signed input runs as p = max(q_x, 0) and n = max(-q_x, 0), two products,
 * the second with negated output scales and a sum post-op. oneDNN v2 scales
 * (acc + bias), so the bias is given as b / (s_x * s_w[n]). An INT8 output
 * is fake-quantized in the post-ops, as the Conv does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/dnnl/dnnl_common.h"
#include "core/arith.h"

typedef struct {
    oct_kernel base;
    int split;             /* signed input: p and n passes */
    oct_dnnl_prim q[2];    /* f32 -> u8 reorders: p, n */
    oct_dnnl_prim mm[2];   /* products on p, n */
    unsigned char *buf[2]; /* the u8 sources */
    char impl[128];
} mm8_kernel;

static oct_status mm8_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    mm8_kernel *k = (mm8_kernel *)kb;
    OCT_TRY(oct_exec_prepare_output(oct_exec_tensor(x, kb->out_values[0]), 0));
    for (int h = 0; h < 1 + k->split; h++) {
        OCT_TRY(oct_dnnl_execute(&k->q[h], kb, x, err));
        OCT_TRY(oct_dnnl_execute(&k->mm[h], kb, x, err));
    }
    return OCT_OK;
}

static void mm8_release(mm8_kernel *k) {
    for (int h = 0; h < 2; h++) {
        oct_dnnl_prim_destroy(&k->q[h]);
        oct_dnnl_prim_destroy(&k->mm[h]);
    }
}

static void mm8_destroy(oct_kernel *kb) {
    mm8_kernel *k = (mm8_kernel *)kb;
    mm8_release(k);
    for (int h = 0; h < 2; h++)
        free(k->buf[h]);
    free(k);
}

/* The problem as oneDNN takes it, checked by mm8_shape. */
typedef struct {
    int64_t M, K, N;
    int trans_b;
    const float *w;    /* B as stored: [K, N], or [N, K] with trans_b */
    const float *bias; /* C [N], or NULL */
} mm8_shape;

/* 1 when node n is a MatMul / Gemm this kernel takes (see the top). */
static int mm8_geometry(const oct_graph *g, const oct_node *n, mm8_shape *s) {
    int gemm = !strcmp(n->op_type, "Gemm");
    if (!gemm && strcmp(n->op_type, "MatMul")) return 0;
    if (n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0 || n->n_out < 1 || n->out[0] < 0) return 0;
    const oct_value *A = &g->values[n->in[0]], *B = &g->values[n->in[1]],
                    *Y = &g->values[n->out[0]];
    const oct_value *C = gemm && n->n_in > 2 && n->in[2] >= 0 ? &g->values[n->in[2]] : NULL;
    if (A->t.dtype != OCT_FLOAT || A->t.ndim < 2 || !B->is_const || B->t.dtype != OCT_FLOAT ||
        !B->t.data || B->t.ndim != 2 || !Y->shape_known || Y->t.dtype != OCT_FLOAT)
        return 0;
    memset(s, 0, sizeof *s);
    if (gemm) {
        if (A->t.ndim != 2 || oct_attr_int(n, "transA", 0) ||
            oct_attr_float(n, "alpha", 1.0f) != 1.0f)
            return 0;
        s->trans_b = oct_attr_int(n, "transB", 0) != 0;
        if (C) {
            if (!C->is_const || C->t.dtype != OCT_FLOAT || !C->t.data || C->t.ndim > 2 ||
                oct_attr_float(n, "beta", 1.0f) != 1.0f)
                return 0;
            s->bias = C->t.data;
        }
    }
    s->K = B->t.dims[s->trans_b ? 1 : 0];
    s->N = B->t.dims[s->trans_b ? 0 : 1];
    s->M = 1;
    for (int i = 0; i < A->t.ndim - 1; i++)
        s->M *= A->t.dims[i];
    s->w = B->t.data;
    if (s->M < 1 || s->K < 1 || s->N < 1 || A->t.dims[A->t.ndim - 1] != s->K || Y->t.ndim < 1 ||
        Y->t.dims[Y->t.ndim - 1] != s->N || oct_numel(&Y->t) != s->M * s->N)
        return 0;
    /* a bias row of N values; a full [M, N] C stays with the FP32 kernel */
    if (C && (oct_numel(&C->t) != s->N || (C->t.ndim == 2 && C->t.dims[0] != 1))) return 0;
    return 1;
}

/* Builds the one or two products (pass h of split). ops: the output's
 * fake quantization, applied after the last pass. */
static oct_status mm8_build(oct_dnnl *d, mm8_kernel *k, const mm8_shape *s, const int8_t *codes,
                            const float *scales, const float *bias, const oct_dnnl_post_op *ops,
                            int n_ops, float s_x, const char *node, oct_error *err) {
    int64_t M = s->M, K = s->K, N = s->N;
    dnnl_memory_desc_t f32_md, u8_md, w_md, w_plain, b_md, dst_md;
    dnnl_dims_t ad = {M, K}, wd = {K, N}, bd = {1, N}, yd = {M, N};
    dnnl_memory_desc_init_by_tag(&f32_md, 2, ad, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&u8_md, 2, ad, dnnl_u8, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&w_md, 2, wd, dnnl_s8, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&w_plain, 2, wd, dnnl_s8, s->trans_b ? dnnl_ba : dnnl_ab);
    dnnl_memory_desc_init_by_tag(&b_md, 2, bd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&dst_md, 2, yd, dnnl_f32, dnnl_ab);
    oct_status st = OCT_OK;
    for (int h = 0; !st && h < 1 + k->split; h++) {
        st = oct_dnnl_int8_quantize(d, &k->q[h], &f32_md, &u8_md, h ? -1.0f / s_x : 1.0f / s_x,
                                    k->buf[h], node, err);
        if (st) break;
        /* the p pass carries the bias; the n pass adds onto it, then the tail */
        int with_bias = bias && h == 0, tail = !k->split || h == 1;
        dnnl_matmul_desc_t md;
        if (dnnl_matmul_desc_init(&md, &u8_md, &w_md, with_bias ? &b_md : NULL, &dst_md) !=
            dnnl_success)
            return OCT_E_UNSUPPORTED;
        dnnl_primitive_attr_t attr = NULL;
        dnnl_post_ops_t po = NULL;
        dnnl_primitive_desc_t pd = NULL;
        if (dnnl_primitive_attr_create(&attr) != dnnl_success) return OCT_E_UNSUPPORTED;
        dnnl_status_t pst = dnnl_post_ops_create(&po);
        if (pst == dnnl_success)
            pst = dnnl_primitive_attr_set_output_scales(attr, N, 1 << 1, scales + (h ? N : 0));
        if (pst == dnnl_success && k->split && h == 1) pst = dnnl_post_ops_append_sum(po, 1.0f);
        if (pst == dnnl_success && tail) oct_dnnl_append_post_ops(po, ops, n_ops, &dst_md);
        if (pst == dnnl_success) pst = dnnl_primitive_attr_set_post_ops(attr, po);
        if (pst == dnnl_success) pst = dnnl_primitive_desc_create(&pd, &md, attr, d->engine, NULL);
        if (po) dnnl_post_ops_destroy(po);
        dnnl_primitive_attr_destroy(attr);
        if (pst != dnnl_success) return OCT_E_UNSUPPORTED; /* no INT8 kernel: simulated FP32 */
        const dnnl_memory_desc_t *w_best =
            dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        if (w_best->extra.flags & dnnl_memory_extra_flag_scale_adjust) {
            /* would round the weight codes (dnnl_conv_int8.c) */
            dnnl_primitive_desc_destroy(pd);
            return OCT_E_UNSUPPORTED;
        }
        dnnl_memory_t wmem = NULL, bmem = NULL;
        st = oct_dnnl_prim_create(&k->mm[h], pd, err);
        if (!st) st = oct_dnnl_arg_buffer(d, &k->mm[h], DNNL_ARG_SRC, &u8_md, k->buf[h], err);
        if (!st) st = oct_dnnl_arg_owned(d, &k->mm[h], DNNL_ARG_WEIGHTS, w_best, &wmem, err);
        if (!st) st = oct_dnnl_fill(d, wmem, &w_plain, codes, err);
        if (!st && with_bias)
            st = oct_dnnl_arg_owned(d, &k->mm[h], DNNL_ARG_BIAS, &b_md, &bmem, err);
        if (!st && with_bias) st = oct_dnnl_fill(d, bmem, &b_md, bias, err);
        if (!st) st = oct_dnnl_arg_slot(d, &k->mm[h], DNNL_ARG_DST, &dst_md, OCT_SLOT_OUT(0), err);
        dnnl_primitive_desc_destroy(pd);
    }
    if (st && st != OCT_E_UNSUPPORTED) oct_error_prefix(err, "node '%s': ", node);
    return st;
}

oct_status oct_dnnl_matmul_int8_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    const oct_exec_int8 *q8 = x->int8;
    oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    mm8_shape s;
    if (!q8 || node >= q8->n_nodes || !q8->w_scales[node] || !mm8_geometry(g, n, &s)) return OCT_OK;
    if (n->in[0] >= q8->n_values || q8->n_w_scales[node] != s.N) return OCT_OK;
    float s_x = q8->act_scale[n->in[0]];
    if (!(s_x > 0)) return OCT_OK; /* input not a symmetric int8 tensor: simulated */
    const float *s_w = q8->w_scales[node];
    int y = n->out[0];

    /* An INT8 output: fake-quantized in the post-ops as the Conv does it
     * (each eltwise kind once; see dnnl_conv_int8.c for the rounding). */
    oct_dnnl_post_op ops[4];
    int n_ops = 0;
    float s_y = y < q8->n_values ? q8->act_scale[y] : 0;
    if (s_y > 0) {
        ops[n_ops++] = (oct_dnnl_post_op){dnnl_eltwise_linear, 1.0f / s_y, 0, -1};
        ops[n_ops++] = (oct_dnnl_post_op){dnnl_eltwise_round, 0, 0, -1};
        ops[n_ops++] = (oct_dnnl_post_op){dnnl_eltwise_clip_v2, -128.0f, 127.0f, -1};
        ops[n_ops++] = (oct_dnnl_post_op){dnnl_eltwise_pow, s_y, 1.0f, -1};
    }

    /* Output scales s_x * s_w[n] (negated for the n pass), the bias in
     * accumulator units, the weight codes in B's own layout. */
    int64_t N = s.N;
    size_t nw = (size_t)(s.K * N), na = (size_t)(s.M * s.K);
    float *scales = malloc(sizeof(float) * 2 * (size_t)N);
    float *bias = s.bias ? malloc(sizeof(float) * (size_t)N) : NULL;
    int8_t *codes = malloc(nw + 1);
    mm8_kernel *k = calloc(1, sizeof *k);
    if (k) {
        k->split = !oct_dnnl_nonnegative(g, n->in[0]);
        k->buf[0] = malloc(na + 64);
        k->buf[1] = k->split ? malloc(na + 64) : NULL;
    }
    oct_status st = OCT_OK;
    if (!scales || (s.bias && !bias) || !codes || !k || !k->buf[0] || (k->split && !k->buf[1]))
        st = oct_fail(err, OCT_E_NOMEM, "node '%s': out of memory for the INT8 matrix product",
                      n->name);
    for (int64_t c = 0; !st && c < N; c++) {
        scales[c] = s_x * s_w[c];
        scales[N + c] = -scales[c];
        /* s_x * s_w underflowing (or overflowing) float: simulated instead */
        if (!isnormal(scales[c])) st = OCT_E_UNSUPPORTED;
        if (!st && bias) bias[c] = s.bias[c] / scales[c];
    }
    if (!st) {
        /* B [N, K] holds one output column per row, B [K, N] one per column */
        if (s.trans_b)
            oct_quantize_s8_channels(s.w, codes, 1, (size_t)N, (size_t)s.K, s_w);
        else
            oct_quantize_s8_channels(s.w, codes, (size_t)s.K, (size_t)N, 1, s_w);
        st = mm8_build(x->dnnl, k, &s, codes, scales, bias, ops, n_ops, s_x, n->name, err);
        if (st == OCT_E_UNSUPPORTED && n_ops) {
            /* oneDNN without these post-ops for the product: the observer
             * quantizes the output instead */
            mm8_release(k);
            n_ops = 0;
            s_y = 0;
            st = mm8_build(x->dnnl, k, &s, codes, scales, bias, ops, n_ops, s_x, n->name, err);
        }
    }
    free(scales);
    free(bias);
    free(codes);
    if (st) {
        if (k) mm8_destroy(&k->base);
        /* oneDNN declining is not an error: the FP32 kernel runs the
         * simulation of this node instead */
        return st == OCT_E_UNSUPPORTED ? OCT_OK : st;
    }
    const char *impl = k->mm[0].impl;
    if (!strncmp(impl, "dnnl:", 5)) impl += 5;
    snprintf(k->impl, sizeof k->impl, "dnnl:int8:%s%s", impl, k->split ? ":pn" : "");
    k->base.impl = k->impl;
    k->base.node = node;
    k->base.n_in = 1;
    k->base.in_values[0] = n->in[0];
    k->base.in_accept[0] = OCT_ACCEPT_PLAIN;
    k->base.n_out = 1;
    k->base.out_values[0] = y;
    k->base.out_layout[0] = OCT_LAYOUT_PLAIN;
    k->base.run = mm8_run;
    k->base.destroy = mm8_destroy;
    if (s_y > 0) q8->kernel_quantized[y] = 1;
    *out = &k->base;
    return OCT_OK;
}
