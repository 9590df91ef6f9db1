/* Trilu: the k input (default 0) does not change the shape, so infer never
 * needs its value. */
#include "kernels/ref/ref_data.h"
#include "ops/op.h"

static oct_status trilu_check(const oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0], *k = oct_in(c, 1);
    if (!oct_dtype_size(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    if (x->ndim < 2) return oct_op_fail(c, OCT_E_SHAPE, "input 0 must have rank >= 2");
    if (k && ((k->dtype != OCT_INT64 && k->dtype != OCT_INT32) || oct_numel(k) != 1))
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (k) must be one int64 value");
    return OCT_OK;
}

static oct_status trilu_infer(oct_opctx *c) {
    OCT_TRY(trilu_check(c));
    return oct_infer_same_as(c, 0);
}

static oct_status trilu_run(oct_opctx *c) {
    OCT_TRY(trilu_check(c));
    const oct_tensor *k = oct_in(c, 1);
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    if (!oct_shape_equal(y, c->in[0]) || y->dtype != c->in[0]->dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    if (k && !k->data) return oct_op_fail(c, OCT_E_RUNTIME, "input 1 (k) has no value");
    int upper = oct_attr_int(c->node, "upper", 1) != 0;
    oct_ref_trilu(c->in[0], upper, k ? oct_ref_index_at(k, 0) : 0, y);
    return OCT_OK;
}

const oct_op_def oct_op_Trilu = {"", "Trilu", trilu_infer, trilu_run, 0};
