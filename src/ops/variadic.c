/* Sum, Mean, Min, Max: one or more inputs of one dtype, broadcast together
 * (numpy rules; opsets before 8 required equal shapes, which broadcasting
 * covers). */
#include "kernels/ref/ref_elementwise.h"
#include "ops/op.h"

static oct_status variadic_shape(oct_opctx *c, oct_binary_op op, int *nd, int64_t *dims) {
    if (c->n_in < 1) return oct_op_fail(c, OCT_E_INVALID_ARG, "needs at least one input");
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *a = c->in[0];
    if (!oct_ref_arith_row(op, a->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(a->dtype));
    *nd = a->ndim;
    for (int d = 0; d < a->ndim; d++)
        dims[d] = a->dims[d];
    for (int i = 1; i < c->n_in; i++) {
        OCT_TRY(oct_op_need_input(c, i, a->dtype));
        int64_t prev[OCT_MAX_DIMS];
        int np = *nd;
        for (int d = 0; d < np; d++)
            prev[d] = dims[d];
        OCT_TRY(oct_broadcast_shape(c, np, prev, c->in[i]->ndim, c->in[i]->dims, nd, dims));
    }
    return OCT_OK;
}

static oct_status variadic_infer(oct_opctx *c, oct_binary_op op) {
    int nd;
    int64_t dims[OCT_MAX_DIMS];
    OCT_TRY(variadic_shape(c, op, &nd, dims));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, nd, dims);
    return OCT_OK;
}

static oct_status variadic_run(oct_opctx *c, oct_binary_op op, int mean) {
    int nd;
    int64_t dims[OCT_MAX_DIMS];
    oct_tensor want = {0};
    OCT_TRY(variadic_shape(c, op, &nd, dims));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    oct_tensor_set_shape(&want, c->in[0]->dtype, nd, dims);
    if (!oct_shape_equal(y, &want) || y->dtype != want.dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "output shape or dtype does not match the inputs");
    if (oct_ref_variadic(op, mean, c->n_in, c->in, y) != OCT_OK)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(y->dtype));
    return OCT_OK;
}

static oct_status infer_sum(oct_opctx *c) { return variadic_infer(c, OCT_BIN_ADD); }
static oct_status infer_min(oct_opctx *c) { return variadic_infer(c, OCT_BIN_MIN); }
static oct_status infer_max(oct_opctx *c) { return variadic_infer(c, OCT_BIN_MAX); }
static oct_status run_sum(oct_opctx *c) { return variadic_run(c, OCT_BIN_ADD, 0); }
static oct_status run_mean(oct_opctx *c) { return variadic_run(c, OCT_BIN_ADD, 1); }
static oct_status run_min(oct_opctx *c) { return variadic_run(c, OCT_BIN_MIN, 0); }
static oct_status run_max(oct_opctx *c) { return variadic_run(c, OCT_BIN_MAX, 0); }

OCT_OP(Sum);
OCT_OP(Mean);
OCT_OP(Min);
OCT_OP(Max);
const oct_op_def oct_op_Sum = {"", "Sum", infer_sum, run_sum, 0};
const oct_op_def oct_op_Mean = {"", "Mean", infer_sum, run_mean, 0};
const oct_op_def oct_op_Min = {"", "Min", infer_min, run_min, 0};
const oct_op_def oct_op_Max = {"", "Max", infer_max, run_max, 0};
