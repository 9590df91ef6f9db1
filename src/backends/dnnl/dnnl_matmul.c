/* MatMul (2-D to 4-D, batch broadcasting) and Gemm on oneDNN, plain layout.
 * Constant right-hand sides are copied into the primitive once. */
#include <stdlib.h>
#include <string.h>

#include "backends/dnnl/dnnl_common.h"

typedef struct {
    oct_kernel base;
    oct_dnnl_prim p;
} mm_kernel;

static oct_status mm_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    mm_kernel *k = (mm_kernel *)kb;
    OCT_TRY(oct_exec_prepare_output(oct_exec_tensor(x, kb->out_values[0]), 0));
    return oct_dnnl_execute(&k->p, kb, x, err);
}

static void mm_destroy(oct_kernel *kb) {
    mm_kernel *k = (mm_kernel *)kb;
    oct_dnnl_prim_destroy(&k->p);
    free(k);
}

/* A plain row-major descriptor of rank r (left-padded with 1s), optionally
 * with the last two axes swapped in memory (a transposed operand). */
static void md_plain(dnnl_memory_desc_t *md, int r, const int64_t *dims, int nd, int trans) {
    dnnl_dims_t d = {0}, st = {0};
    for (int i = 0; i < r; i++) d[i] = i < r - nd ? 1 : dims[i - (r - nd)];
    if (trans) {
        int64_t t = d[r - 1];
        d[r - 1] = d[r - 2];
        d[r - 2] = t;
    }
    /* strides of the stored (untransposed) array */
    int64_t stored[DNNL_MAX_NDIMS];
    for (int i = 0; i < r; i++) stored[i] = d[i];
    if (trans) {
        stored[r - 1] = d[r - 2];
        stored[r - 2] = d[r - 1];
    }
    int64_t acc = 1, sst[DNNL_MAX_NDIMS];
    for (int i = r - 1; i >= 0; i--) {
        sst[i] = acc;
        acc *= stored[i];
    }
    for (int i = 0; i < r; i++) st[i] = sst[i];
    if (trans) {
        st[r - 1] = sst[r - 2];
        st[r - 2] = sst[r - 1];
    }
    dnnl_memory_desc_init_by_strides(md, r, d, dnnl_f32, st);
}

oct_status oct_dnnl_matmul_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    oct_graph *g = x->g;
    oct_node *n = &g->nodes[node];
    int gemm = !strcmp(n->op_type, "Gemm");
    if (n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0 || n->n_out < 1 || n->out[0] < 0) return OCT_OK;
    const oct_value *A = &g->values[n->in[0]], *B = &g->values[n->in[1]], *Y = &g->values[n->out[0]];
    const oct_value *C = gemm && n->n_in > 2 && n->in[2] >= 0 ? &g->values[n->in[2]] : NULL;
    if (A->t.dtype != OCT_FLOAT || B->t.dtype != OCT_FLOAT || !Y->shape_known) return OCT_OK;
    int ta = 0, tb = 0;
    if (gemm) {
        if (oct_attr_float(n, "alpha", 1.0f) != 1.0f) return OCT_OK;
        ta = (int)oct_attr_int(n, "transA", 0);
        tb = (int)oct_attr_int(n, "transB", 0);
        if (A->t.ndim != 2 || B->t.ndim != 2) return OCT_OK;
        if (C) {
            /* bias must be a constant row vector [N] or [1,N] */
            if (!C->is_const || C->t.dtype != OCT_FLOAT || oct_attr_float(n, "beta", 1.0f) != 1.0f) return OCT_OK;
            int64_t nn = Y->t.dims[1];
            if (oct_numel(&C->t) != nn || (C->t.ndim == 2 && C->t.dims[0] != 1)) return OCT_OK;
        }
    } else if (A->t.ndim < 2 || B->t.ndim < 2 || A->t.ndim > 4 || B->t.ndim > 4) {
        return OCT_OK;
    }
    int r = Y->t.ndim;
    if (r < 2 || r > 4) return OCT_OK;
    dnnl_memory_desc_t a_md, b_md, c_md, y_md;
    md_plain(&a_md, r, A->t.dims, A->t.ndim, ta);
    md_plain(&b_md, r, B->t.dims, B->t.ndim, tb);
    md_plain(&y_md, r, Y->t.dims, Y->t.ndim, 0);
    if (C) {
        dnnl_dims_t cd;
        for (int i = 0; i < r; i++) cd[i] = 1;
        cd[r - 1] = Y->t.dims[r - 1];
        dnnl_memory_desc_init_by_tag(&c_md, r, cd, dnnl_f32, r == 2 ? dnnl_ab : r == 3 ? dnnl_abc : dnnl_abcd);
    }
    dnnl_matmul_desc_t md;
    if (dnnl_matmul_desc_init(&md, &a_md, &b_md, C ? &c_md : NULL, &y_md) != dnnl_success) return OCT_OK;
    oct_dnnl *d = x->dnnl;
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_primitive_desc_create(&pd, &md, NULL, d->engine, NULL) != dnnl_success) return OCT_OK;
    mm_kernel *k = calloc(1, sizeof *k);
    oct_status st = k ? OCT_OK : oct_fail(err, OCT_E_NOMEM, "out of memory");
    dnnl_memory_t bm = NULL, cm = NULL;
    if (!st) st = oct_dnnl_prim_create(&k->p, pd, err);
    if (!st) st = oct_dnnl_arg_slot(d, &k->p, DNNL_ARG_SRC, &a_md, OCT_SLOT_IN(0), err);
    int b_const = B->is_const;
    if (!st && b_const) st = oct_dnnl_arg_owned(d, &k->p, DNNL_ARG_WEIGHTS, &b_md, &bm, err);
    if (!st && b_const) st = oct_dnnl_fill(d, bm, &b_md, B->t.data, err);
    if (!st && !b_const) st = oct_dnnl_arg_slot(d, &k->p, DNNL_ARG_WEIGHTS, &b_md, OCT_SLOT_IN(1), err);
    if (!st && C) st = oct_dnnl_arg_owned(d, &k->p, DNNL_ARG_BIAS, &c_md, &cm, err);
    if (!st && C) st = oct_dnnl_fill(d, cm, &c_md, C->t.data, err);
    if (!st) st = oct_dnnl_arg_slot(d, &k->p, DNNL_ARG_DST, &y_md, OCT_SLOT_OUT(0), err);
    dnnl_primitive_desc_destroy(pd);
    if (st) {
        if (k) mm_destroy(&k->base);
        return st;
    }
    k->base.impl = k->p.impl;
    k->base.node = node;
    k->base.n_in = b_const ? 1 : 2;
    k->base.in_values[0] = n->in[0];
    k->base.in_accept[0] = OCT_ACCEPT_PLAIN;
    k->base.in_values[1] = n->in[1];
    k->base.in_accept[1] = OCT_ACCEPT_PLAIN;
    k->base.n_out = 1;
    k->base.out_values[0] = n->out[0];
    k->base.out_layout[0] = OCT_LAYOUT_PLAIN;
    k->base.run = mm_run;
    k->base.destroy = mm_destroy;
    *out = &k->base;
    return OCT_OK;
}
