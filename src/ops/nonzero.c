/* NonZero: int64 [rank, count] coordinates; a scalar gives [1, count] as in
 * ONNX Runtime. The count depends on the values, so infer needs the data. */
#include "kernels/ref/ref_data.h"
#include "ops/op.h"

static oct_status nonzero_shape(const oct_opctx *c, int64_t *dims) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (!oct_dtype_size(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    if (!x->data) return OCT_E_DYNAMIC;
    dims[0] = x->ndim > 0 ? x->ndim : 1;
    dims[1] = oct_ref_count_nonzero(x);
    return OCT_OK;
}

static oct_status nonzero_infer(oct_opctx *c) {
    int64_t dims[2] = {0, 0};
    OCT_TRY(nonzero_shape(c, dims));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], OCT_INT64, 2, dims);
    return OCT_OK;
}

static oct_status nonzero_run(oct_opctx *c) {
    int64_t dims[2] = {0, 0};
    OCT_TRY(nonzero_shape(c, dims));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    if (y->dtype != OCT_INT64 || y->ndim != 2 || y->dims[0] != dims[0] || y->dims[1] != dims[1])
        return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    oct_ref_nonzero(c->in[0], y);
    return OCT_OK;
}

const oct_op_def oct_op_NonZero = {"", "NonZero", nonzero_infer, nonzero_run, 0};
