/* Clip: before opset 11 the bounds are float attributes `min`/`max`; from
 * 11 on they are optional scalar inputs of X's dtype (integers too). */
#include <float.h>

#include "kernels/ref/ref_elementwise.h"
#include "ops/op.h"

static oct_status check_bound(const oct_opctx *c, int i) {
    const oct_tensor *t = oct_in(c, i);
    if (!t) return OCT_OK;
    if (t->dtype != c->in[0]->dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "input %d has dtype %s, expected %s like input 0", i,
                           oct_dtype_name(t->dtype), oct_dtype_name(c->in[0]->dtype));
    if (oct_numel(t) != 1) return oct_op_fail(c, OCT_E_SHAPE, "input %d must be a scalar", i);
    return OCT_OK;
}

static oct_status clip_check(oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    oct_dtype dt = c->in[0]->dtype;
    if (c->opset < 11) {
        if (!oct_dtype_is_float(dt))
            return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported before opset 11",
                               oct_dtype_name(dt));
        return OCT_OK;
    }
    if (!oct_dtype_is_float(dt) && !oct_dtype_is_int(dt))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported", oct_dtype_name(dt));
    OCT_TRY(check_bound(c, 1));
    return check_bound(c, 2);
}

static oct_status clip_infer(oct_opctx *c) {
    OCT_TRY(clip_check(c));
    return oct_infer_same_as(c, 0);
}

static oct_status clip_run(oct_opctx *c) {
    OCT_TRY(clip_check(c));
    const oct_tensor *x = c->in[0];
    oct_tensor *y = oct_out(c, 0);
    oct_status st;
    if (!y) return OCT_OK;
    if (!oct_shape_equal(x, y) || y->dtype != x->dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "output does not match input 0's shape and dtype");
    if (c->opset < 11)
        st = oct_ref_clip_f(x, oct_attr_float(c->node, "min", -FLT_MAX),
                            oct_attr_float(c->node, "max", FLT_MAX), y);
    else
        st = oct_ref_clip(x, oct_in(c, 1), oct_in(c, 2), y);
    if (st != OCT_OK)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    return OCT_OK;
}

OCT_OP(Clip);
const oct_op_def oct_op_Clip = {"", "Clip", clip_infer, clip_run, 0};
