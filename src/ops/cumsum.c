/* CumSum(x, axis): running sums along the axis given by the scalar int
 * input 1; attributes exclusive and reverse (default 0). The output shape
 * is x's, so only run needs the axis value. */
#include "kernels/ref/ref_elementwise.h"
#include "ops/op.h"

static oct_status cumsum_check(oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0], *a = c->in[1];
    if (!oct_ref_is_numeric(x->dtype) || x->dtype == OCT_BOOL)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    if (x->ndim == 0) return oct_op_fail(c, OCT_E_SHAPE, "input 0 must have rank >= 1");
    if ((a->dtype != OCT_INT64 && a->dtype != OCT_INT32) || oct_numel(a) != 1 || a->ndim > 1)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (axis) must be an int32/int64 scalar");
    return OCT_OK;
}

static oct_status cumsum_infer(oct_opctx *c) {
    OCT_TRY(cumsum_check(c));
    return oct_infer_same_as(c, 0);
}

static oct_status cumsum_run(oct_opctx *c) {
    OCT_TRY(cumsum_check(c));
    const oct_tensor *x = c->in[0];
    oct_tensor *y = oct_out(c, 0);
    int64_t a;
    int axis;
    if (!y) return OCT_OK;
    if (!oct_shape_equal(x, y) || y->dtype != x->dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "output does not match input 0's shape and dtype");
    if (oct_read_ints(c->in[1], &a, 1) != 1)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "input 1 (axis) has no value");
    OCT_TRY(oct_op_axis(c, a, x->ndim, &axis));
    if (oct_ref_cumsum(x, axis, oct_attr_int(c->node, "exclusive", 0) != 0,
                       oct_attr_int(c->node, "reverse", 0) != 0, y) != OCT_OK)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    return OCT_OK;
}

OCT_OP(CumSum);
const oct_op_def oct_op_CumSum = {"", "CumSum", cumsum_infer, cumsum_run, 0};
