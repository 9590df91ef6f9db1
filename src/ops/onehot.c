/* OneHot: depth inserted at `axis`; values = [off, on] give the output
 * dtype. Negative indices count back from depth (opset 11). */
#include "kernels/ref/ref_data.h"
#include "ops/op.h"

static oct_status onehot_plan(const oct_opctx *c, int *ax, int64_t *depth) {
    for (int i = 0; i < 3; i++)
        OCT_TRY(oct_op_need_input(c, i, OCT_UNDEFINED));
    const oct_tensor *idx = c->in[0], *d = c->in[1], *v = c->in[2];
    if (!oct_dtype_is_int(idx->dtype) && !oct_dtype_is_float(idx->dtype))
        return oct_op_fail(c, OCT_E_SHAPE, "input 0 (indices) must be numeric, got %s",
                           oct_dtype_name(idx->dtype));
    if (!oct_dtype_is_int(d->dtype) && !oct_dtype_is_float(d->dtype))
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (depth) must be numeric, got %s",
                           oct_dtype_name(d->dtype));
    if (oct_numel(d) != 1 || d->ndim > 1)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (depth) must hold one value");
    if (oct_numel(v) != 2 || v->ndim != 1)
        return oct_op_fail(c, OCT_E_SHAPE, "input 2 (values) must be 1-D with 2 values");
    if (!oct_dtype_size(v->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(v->dtype));
    int r = idx->ndim + 1;
    if (r > OCT_MAX_DIMS) return oct_op_fail(c, OCT_E_UNSUPPORTED, "rank %d > %d", r, OCT_MAX_DIMS);
    OCT_TRY(oct_op_axis(c, oct_attr_int(c->node, "axis", -1), r, ax));
    if (!d->data) return OCT_E_DYNAMIC;
    *depth = oct_get_i64(d, 0); /* a float depth is truncated, as ONNX Runtime casts it */
    if (*depth < 1)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "depth %lld must be positive", (long long)*depth);
    return OCT_OK;
}

static void out_dims(const oct_tensor *idx, int ax, int64_t depth, int64_t *dims) {
    for (int i = 0, j = 0; i <= idx->ndim; i++)
        dims[i] = i == ax ? depth : idx->dims[j++];
}

static oct_status onehot_infer(oct_opctx *c) {
    int ax = 0;
    int64_t depth = 0, dims[OCT_MAX_DIMS] = {0};
    OCT_TRY(onehot_plan(c, &ax, &depth));
    out_dims(c->in[0], ax, depth, dims);
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], c->in[2]->dtype, c->in[0]->ndim + 1, dims);
    return OCT_OK;
}

static oct_status onehot_run(oct_opctx *c) {
    int ax = 0;
    int64_t depth = 0, dims[OCT_MAX_DIMS] = {0};
    OCT_TRY(onehot_plan(c, &ax, &depth));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    out_dims(c->in[0], ax, depth, dims);
    int ok = y->dtype == c->in[2]->dtype && y->ndim == c->in[0]->ndim + 1;
    for (int i = 0; ok && i < y->ndim; i++)
        ok = y->dims[i] == dims[i];
    if (!ok) return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    oct_ref_onehot(c->in[0], depth, ax, c->in[2], y);
    return OCT_OK;
}

const oct_op_def oct_op_OneHot = {"", "OneHot", onehot_infer, onehot_run, 0};
