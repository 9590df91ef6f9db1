/* EyeLike: ones on the k-th diagonal of a 2-D tensor shaped like input 0,
 * of dtype `dtype` (default: input 0's). */
#include "kernels/ref/ref_data.h"
#include "ops/op.h"

static oct_status eyelike_dtype(const oct_opctx *c, oct_dtype *dt) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (x->ndim != 2)
        return oct_op_fail(c, OCT_E_SHAPE, "input 0 must be 2-D, has rank %d", x->ndim);
    *dt = (oct_dtype)oct_attr_int(c->node, "dtype", x->dtype);
    if (!oct_dtype_size(*dt) || *dt == OCT_STRING)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %d is not supported", (int)*dt);
    return OCT_OK;
}

static oct_status eyelike_infer(oct_opctx *c) {
    oct_dtype dt = OCT_UNDEFINED;
    OCT_TRY(eyelike_dtype(c, &dt));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], dt, 2, c->in[0]->dims);
    return OCT_OK;
}

static oct_status eyelike_run(oct_opctx *c) {
    oct_dtype dt = OCT_UNDEFINED;
    OCT_TRY(eyelike_dtype(c, &dt));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    if (!oct_shape_equal(y, c->in[0]) || y->dtype != dt)
        return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    oct_ref_eyelike(oct_attr_int(c->node, "k", 0), y);
    return OCT_OK;
}

const oct_op_def oct_op_EyeLike = {"", "EyeLike", eyelike_infer, eyelike_run, 0};
