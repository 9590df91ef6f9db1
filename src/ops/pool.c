/* MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool over N x C x D...
 * (N-D). MaxPool takes 8-bit integers too (opset 12) and may return the
 * flat Indices of its maxima. */
#include <float.h>
#include <stdlib.h>

#include "kernels/ref/ref_nn.h"

static oct_status check_pool_input(const oct_opctx *c, int allow_int8) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    int ok = oct_nn_is_real(x->dtype) ||
             (allow_int8 && (x->dtype == OCT_INT8 || x->dtype == OCT_UINT8));
    if (!ok)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "input X has dtype %s", oct_dtype_name(x->dtype));
    if (x->ndim < 3)
        return oct_op_fail(c, OCT_E_SHAPE, "input X has rank %d, expected N x C x spatial", x->ndim);
    return OCT_OK;
}

oct_status oct_pool_params_get(const oct_opctx *c, oct_pool_kind kind, oct_pool_params *p) {
    OCT_TRY(check_pool_input(c, kind == OCT_POOL_MAX));
    const oct_tensor *x = c->in[0];
    int nsp = x->ndim - 2;
    p->kind = kind;
    p->n = x->dims[0];
    p->c = x->dims[1];
    const int64_t *ks;
    int64_t nk = oct_attr_ints(c->node, "kernel_shape", &ks);
    if (nk < 0) return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute kernel_shape is required");
    if (nk != nsp)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "kernel_shape has %lld values, expected %d",
                           (long long)nk, nsp);
    int64_t ceil_mode = oct_attr_int(c->node, "ceil_mode", 0);
    p->count_include_pad = (int)(oct_attr_int(c->node, "count_include_pad", 0) != 0);
    int64_t so = oct_attr_int(c->node, "storage_order", 0);
    if (so != 0 && so != 1)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "storage_order %lld (0 or 1)", (long long)so);
    p->storage_order = (int)so;
    switch (x->dtype) {
    case OCT_DOUBLE: p->lowest = -DBL_MAX; break;
    case OCT_FLOAT16: p->lowest = -65504.0; break;
    case OCT_INT8: p->lowest = -128.0; break;
    case OCT_UINT8: p->lowest = 0.0; break;
    default: p->lowest = -FLT_MAX; break;
    }
    return oct_nn_window_params(c, nsp, x->dims + 2, ks, ceil_mode != 0, &p->w);
}

static oct_status pool_infer(oct_opctx *c, oct_pool_kind kind) {
    oct_pool_params p;
    OCT_TRY(oct_pool_params_get(c, kind, &p));
    int64_t dims[OCT_MAX_DIMS] = {p.n, p.c};
    for (int i = 0; i < p.w.nsp; i++) dims[2 + i] = p.w.out[i];
    if (c->out[0]) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, p.w.nsp + 2, dims);
    oct_tensor *idx = oct_out(c, 1);
    if (idx) {
        if (kind != OCT_POOL_MAX)
            return oct_op_fail(c, OCT_E_INVALID_ARG, "AveragePool has one output");
        oct_tensor_set_shape(idx, OCT_INT64, p.w.nsp + 2, dims);
    }
    return OCT_OK;
}

static oct_status pool_run(oct_opctx *c, oct_pool_kind kind) {
    oct_pool_params p;
    OCT_TRY(oct_pool_params_get(c, kind, &p));
    oct_tensor *y = c->out[0], *idx = oct_out(c, 1);
    double *x = oct_nn_load_f64(c->in[0]);
    int64_t ny = oct_shape_numel(p.w.nsp, p.w.out) * p.n * p.c;
    double *yv = malloc((size_t)(ny > 0 ? ny : 1) * sizeof *yv);
    if (!x || !yv) {
        free(x);
        free(yv);
        return oct_op_fail(c, OCT_E_NOMEM, "out of memory");
    }
    oct_ref_pool(&p, x, yv, idx ? idx->data : NULL);
    if (y) oct_nn_store_f64(y, yv);
    free(x);
    free(yv);
    return OCT_OK;
}

static oct_status maxpool_infer(oct_opctx *c) { return pool_infer(c, OCT_POOL_MAX); }
static oct_status maxpool_run(oct_opctx *c) { return pool_run(c, OCT_POOL_MAX); }
static oct_status avgpool_infer(oct_opctx *c) { return pool_infer(c, OCT_POOL_AVG); }
static oct_status avgpool_run(oct_opctx *c) { return pool_run(c, OCT_POOL_AVG); }

static oct_status global_infer(oct_opctx *c) {
    OCT_TRY(check_pool_input(c, 0));
    const oct_tensor *x = c->in[0];
    int64_t dims[OCT_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) dims[i] = i < 2 ? x->dims[i] : 1;
    if (c->out[0]) oct_tensor_set_shape(c->out[0], x->dtype, x->ndim, dims);
    return OCT_OK;
}

static oct_status global_run(oct_opctx *c, oct_pool_kind kind) {
    OCT_TRY(check_pool_input(c, 0));
    const oct_tensor *x = c->in[0];
    oct_tensor *y = c->out[0];
    if (!y) return OCT_OK;
    int64_t outer = x->dims[0] * x->dims[1], inner = oct_shape_numel(x->ndim - 2, x->dims + 2);
    double *xv = oct_nn_load_f64(x), *yv = malloc((size_t)(outer > 0 ? outer : 1) * sizeof *yv);
    if (!xv || !yv) {
        free(xv);
        free(yv);
        return oct_op_fail(c, OCT_E_NOMEM, "out of memory");
    }
    oct_ref_global_pool(kind, outer, inner, xv, yv);
    oct_nn_store_f64(y, yv);
    free(xv);
    free(yv);
    return OCT_OK;
}

static oct_status gmax_run(oct_opctx *c) { return global_run(c, OCT_POOL_MAX); }
static oct_status gavg_run(oct_opctx *c) { return global_run(c, OCT_POOL_AVG); }

const oct_op_def oct_op_MaxPool = {"", "MaxPool", maxpool_infer, maxpool_run, 0};
const oct_op_def oct_op_AveragePool = {"", "AveragePool", avgpool_infer, avgpool_run, 0};
const oct_op_def oct_op_GlobalMaxPool = {"", "GlobalMaxPool", global_infer, gmax_run, 0};
const oct_op_def oct_op_GlobalAveragePool = {"", "GlobalAveragePool", global_infer, gavg_run, 0};
