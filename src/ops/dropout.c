/* Dropout (opsets 7 to 22) for inference: output = input and, when asked
 * for, a mask of all true. Training mode (opset 12+, training_mode input
 * true) with a non-zero ratio drops random elements: octet does not do it
 * and fails with OCT_E_UNSUPPORTED; a zero ratio keeps everything, so it is
 * supported. */
#include "kernels/ref/ref_quant.h"

/* Fails when the node trains with a non-zero ratio; unknown values (before
 * run time) pass. */
static oct_status check_mode(const oct_opctx *c) {
    if (c->opset < 12) return OCT_OK; /* the ratio attribute only applies to training */
    const oct_tensor *r = oct_in(c, 1), *t = oct_in(c, 2);
    if (r && (!oct_nn_is_real(r->dtype) || oct_numel(r) != 1))
        return oct_op_fail(c, OCT_E_SHAPE, "ratio must be a float scalar");
    if (t && (t->dtype != OCT_BOOL || oct_numel(t) != 1))
        return oct_op_fail(c, OCT_E_SHAPE, "training_mode must be a bool scalar");
    if (!t || !t->data || !oct_get_i64(t, 0)) return OCT_OK;
    if (r && !r->data) return OCT_OK;
    double ratio = r ? oct_get_f64(r, 0) : 0.5;
    if (ratio != 0.0)
        return oct_op_fail(c, OCT_E_UNSUPPORTED,
                           "training mode with ratio %g (random dropout) is not supported", ratio);
    return OCT_OK;
}

static oct_status dropout_infer(oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (!oct_nn_is_real(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "input has dtype %s; only float types",
                           oct_dtype_name(x->dtype));
    OCT_TRY(check_mode(c));
    if (c->out[0]) oct_tensor_set_shape(c->out[0], x->dtype, x->ndim, x->dims);
    oct_tensor *mask = oct_out(c, 1);
    if (mask) oct_tensor_set_shape(mask, c->opset >= 10 ? OCT_BOOL : x->dtype, x->ndim, x->dims);
    return OCT_OK;
}

static oct_status dropout_run(oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(check_mode(c));
    oct_ref_dropout_identity(c->in[0], c->out[0], oct_out(c, 1));
    return OCT_OK;
}

const oct_op_def oct_op_Dropout = {"", "Dropout", dropout_infer, dropout_run, 0};
