/* MaxPool / AveragePool / GlobalAveragePool / GlobalMaxPool on oneDNN,
 * channels-last. */
#include <stdlib.h>
#include <string.h>

#include "backends/dnnl/dnnl_common.h"

typedef struct {
    oct_kernel base;
    oct_dnnl_prim p;
} pool_kernel;

static oct_status pool_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    pool_kernel *k = (pool_kernel *)kb;
    OCT_TRY(oct_exec_prepare_output(oct_exec_tensor(x, kb->out_values[0]), 0));
    return oct_dnnl_execute(&k->p, kb, x, err);
}

static void pool_destroy(oct_kernel *kb) {
    pool_kernel *k = (pool_kernel *)kb;
    oct_dnnl_prim_destroy(&k->p);
    free(k);
}

oct_status oct_dnnl_pool_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    oct_graph *g = x->g;
    oct_node *n = &g->nodes[node];
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out < 1 || n->out[0] < 0) return OCT_OK;
    if (n->n_out > 1 && n->out[1] >= 0) return OCT_OK; /* MaxPool Indices */
    const oct_value *X = &g->values[n->in[0]], *Y = &g->values[n->out[0]];
    if (X->t.dtype != OCT_FLOAT || X->t.ndim != 4 || !Y->shape_known || Y->t.ndim != 4) return OCT_OK;
    int global = !strncmp(n->op_type, "Global", 6);
    int is_max = strstr(n->op_type, "Max") != NULL;
    int64_t H = X->t.dims[2], W = X->t.dims[3], OH = Y->t.dims[2], OW = Y->t.dims[3];
    int64_t k[2] = {H, W}, s[2] = {1, 1}, dil[2] = {1, 1}, pl[2] = {0, 0};
    const int64_t *v;
    int include_pad = 0;
    if (!global) {
        if (oct_attr_ints(n, "kernel_shape", &v) != 2) return OCT_OK;
        memcpy(k, v, sizeof k);
        if (oct_attr_ints(n, "strides", &v) == 2) memcpy(s, v, sizeof s);
        if (oct_attr_ints(n, "dilations", &v) == 2) memcpy(dil, v, sizeof dil);
        if (oct_attr_int(n, "storage_order", 0)) return OCT_OK;
        include_pad = (int)oct_attr_int(n, "count_include_pad", 0);
        const char *ap = oct_attr_str(n, "auto_pad", "NOTSET");
        int64_t in_sz[2] = {H, W}, out_sz[2] = {OH, OW};
        if (!strcmp(ap, "NOTSET")) {
            if (oct_attr_ints(n, "pads", &v) == 4) {
                pl[0] = v[0];
                pl[1] = v[1];
            }
        } else if (strcmp(ap, "VALID")) {
            for (int i = 0; i < 2; i++) {
                int64_t total = (out_sz[i] - 1) * s[i] + (k[i] - 1) * dil[i] + 1 - in_sz[i];
                if (total < 0) total = 0;
                pl[i] = !strcmp(ap, "SAME_LOWER") ? total - total / 2 : total / 2;
            }
        }
        /* ceil_mode windows past the padding average over fewer elements in
         * ONNX; oneDNN counts them as padding. Leave that case to the reference. */
        if (!is_max && include_pad && oct_attr_int(n, "ceil_mode", 0)) return OCT_OK;
    }
    int64_t out_sz[2] = {OH, OW}, in_sz[2] = {H, W}, pr[2];
    for (int i = 0; i < 2; i++) {
        pr[i] = (out_sz[i] - 1) * s[i] + (k[i] - 1) * dil[i] + 1 - in_sz[i] - pl[i];
        if (pr[i] < 0) pr[i] = 0;
        if (pl[i] < 0 || s[i] < 1 || dil[i] < 1 || pl[i] >= (k[i] - 1) * dil[i] + 1) return OCT_OK;
    }
    oct_dnnl *d = x->dnnl;
    dnnl_memory_desc_t src_md, dst_md;
    dnnl_dims_t sd = {X->t.dims[0], X->t.dims[1], H, W}, dd = {Y->t.dims[0], Y->t.dims[1], OH, OW};
    dnnl_memory_desc_init_by_tag(&src_md, 4, sd, dnnl_f32, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, dnnl_f32, dnnl_nhwc);
    dnnl_dims_t ks = {k[0], k[1]}, ss = {s[0], s[1]}, ds = {dil[0] - 1, dil[1] - 1}, pls = {pl[0], pl[1]},
                prs = {pr[0], pr[1]};
    dnnl_alg_kind_t alg = is_max ? dnnl_pooling_max
                                 : include_pad ? dnnl_pooling_avg_include_padding : dnnl_pooling_avg_exclude_padding;
    dnnl_pooling_v2_desc_t pdsc;
    if (dnnl_pooling_v2_forward_desc_init(&pdsc, dnnl_forward_inference, alg, &src_md, &dst_md, ss, ks, ds, pls,
                                          prs) != dnnl_success)
        return OCT_OK;
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_primitive_desc_create(&pd, &pdsc, NULL, d->engine, NULL) != dnnl_success) return OCT_OK;
    pool_kernel *pk = calloc(1, sizeof *pk);
    oct_status st = pk ? OCT_OK : oct_fail(err, OCT_E_NOMEM, "out of memory");
    if (!st) st = oct_dnnl_prim_create(&pk->p, pd, err);
    if (!st) st = oct_dnnl_arg_slot(d, &pk->p, DNNL_ARG_SRC, &src_md, OCT_SLOT_IN(0), err);
    if (!st) st = oct_dnnl_arg_slot(d, &pk->p, DNNL_ARG_DST, &dst_md, OCT_SLOT_OUT(0), err);
    const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(pd, dnnl_query_workspace_md, 0);
    if (!st && ws && ws->ndims > 0) st = oct_dnnl_arg_owned(d, &pk->p, DNNL_ARG_WORKSPACE, ws, NULL, err);
    dnnl_primitive_desc_destroy(pd);
    if (st) {
        if (pk) pool_destroy(&pk->base);
        return st;
    }
    pk->base.impl = pk->p.impl;
    pk->base.node = node;
    pk->base.n_in = 1;
    pk->base.in_values[0] = n->in[0];
    pk->base.in_accept[0] = OCT_ACCEPT_NHWC;
    pk->base.n_out = 1;
    pk->base.out_values[0] = n->out[0];
    pk->base.out_layout[0] = OCT_LAYOUT_NHWC;
    pk->base.run = pool_run;
    pk->base.destroy = pool_destroy;
    *out = &pk->base;
    return OCT_OK;
}
