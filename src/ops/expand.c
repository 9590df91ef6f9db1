#include "kernels/ref/ref_data.h"
#include "ops/op.h"

static oct_status expand_shape(const oct_opctx *c, int *r, int64_t *dims) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0], *s = c->in[1];
    if (!oct_dtype_size(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    if (s->dtype != OCT_INT64 && s->dtype != OCT_INT32)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (shape) must be int64, got %s",
                           oct_dtype_name(s->dtype));
    if (!s->data) return OCT_E_DYNAMIC;
    if (s->ndim > 1 || oct_numel(s) > OCT_MAX_DIMS)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (shape) must be 1-D with at most %d values",
                           OCT_MAX_DIMS);
    int64_t sh[OCT_MAX_DIMS];
    int n = (int)oct_read_ints(s, sh, OCT_MAX_DIMS);
    for (int i = 0; i < n; i++)
        if (sh[i] < 0)
            return oct_op_fail(c, OCT_E_SHAPE, "shape[%d] = %lld is negative", i, (long long)sh[i]);
    return oct_broadcast_shape(c, x->ndim, x->dims, n, sh, r, dims);
}

static oct_status expand_infer(oct_opctx *c) {
    int64_t dims[OCT_MAX_DIMS] = {0};
    int r = 0;
    OCT_TRY(expand_shape(c, &r, dims));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, r, dims);
    return OCT_OK;
}

static oct_status expand_run(oct_opctx *c) {
    int64_t dims[OCT_MAX_DIMS] = {0};
    int r = 0;
    OCT_TRY(expand_shape(c, &r, dims));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    oct_tensor want = *y;
    oct_tensor_set_shape(&want, y->dtype, r, dims);
    if (!oct_shape_equal(y, &want)) return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    oct_ref_expand(c->in[0], y);
    return OCT_OK;
}

const oct_op_def oct_op_Expand = {"", "Expand", expand_infer, expand_run, 0};
