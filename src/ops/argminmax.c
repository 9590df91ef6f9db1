/* ArgMax / ArgMin: int64 indices along `axis` (default 0), keepdims
 * (default 1), select_last_index (opset 12+, default 0). */
#include "kernels/ref/ref_elementwise.h"
#include "ops/op.h"

static oct_status arg_shape(oct_opctx *c, int *axis, int *nd, int64_t *dims) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (!oct_ref_is_numeric(x->dtype) || x->dtype == OCT_BOOL)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    if (x->ndim == 0) return oct_op_fail(c, OCT_E_SHAPE, "input 0 must have rank >= 1");
    OCT_TRY(oct_op_axis(c, oct_attr_int(c->node, "axis", 0), x->ndim, axis));
    if (x->dims[*axis] == 0)
        return oct_op_fail(c, OCT_E_SHAPE, "axis %d has size 0: no element to select", *axis);
    int keep = oct_attr_int(c->node, "keepdims", 1) != 0;
    *nd = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (d != *axis)
            dims[(*nd)++] = x->dims[d];
        else if (keep)
            dims[(*nd)++] = 1;
    }
    return OCT_OK;
}

static oct_status arg_infer(oct_opctx *c) {
    int axis, nd;
    int64_t dims[OCT_MAX_DIMS];
    OCT_TRY(arg_shape(c, &axis, &nd, dims));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], OCT_INT64, nd, dims);
    return OCT_OK;
}

static oct_status arg_run(oct_opctx *c, int is_max) {
    int axis, nd;
    int64_t dims[OCT_MAX_DIMS];
    oct_tensor want = {0};
    OCT_TRY(arg_shape(c, &axis, &nd, dims));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    oct_tensor_set_shape(&want, OCT_INT64, nd, dims);
    if (!oct_shape_equal(y, &want) || y->dtype != OCT_INT64)
        return oct_op_fail(c, OCT_E_SHAPE, "output shape or dtype does not match");
    int last = oct_attr_int(c->node, "select_last_index", 0) != 0;
    if (oct_ref_argminmax(c->in[0], axis, is_max, last, y) != OCT_OK)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(c->in[0]->dtype));
    return OCT_OK;
}

static oct_status argmax_run(oct_opctx *c) { return arg_run(c, 1); }
static oct_status argmin_run(oct_opctx *c) { return arg_run(c, 0); }

OCT_OP(ArgMax);
OCT_OP(ArgMin);
const oct_op_def oct_op_ArgMax = {"", "ArgMax", arg_infer, argmax_run, 0};
const oct_op_def oct_op_ArgMin = {"", "ArgMin", arg_infer, argmin_run, 0};
