/* Where(condition, X, Y): elements of X where condition, else Y; the three
 * broadcast together. */
#include "kernels/ref/ref_elementwise.h"
#include "ops/op.h"

static oct_status where_shape(oct_opctx *c, int *nd, int64_t *dims) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_BOOL));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 2, c->in[1]->dtype));
    const oct_tensor *k = c->in[0], *x = c->in[1], *y = c->in[2];
    if (!oct_dtype_size(x->dtype) || oct_dtype_size(x->dtype) > 8 || x->dtype == OCT_STRING)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    int64_t t[OCT_MAX_DIMS];
    int nt;
    OCT_TRY(oct_broadcast_shape(c, k->ndim, k->dims, x->ndim, x->dims, &nt, t));
    return oct_broadcast_shape(c, nt, t, y->ndim, y->dims, nd, dims);
}

static oct_status where_infer(oct_opctx *c) {
    int nd;
    int64_t dims[OCT_MAX_DIMS];
    OCT_TRY(where_shape(c, &nd, dims));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], c->in[1]->dtype, nd, dims);
    return OCT_OK;
}

static oct_status where_run(oct_opctx *c) {
    int nd;
    int64_t dims[OCT_MAX_DIMS];
    oct_tensor want = {0};
    OCT_TRY(where_shape(c, &nd, dims));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    oct_tensor_set_shape(&want, c->in[1]->dtype, nd, dims);
    if (!oct_shape_equal(y, &want) || y->dtype != want.dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "output shape or dtype does not match the inputs");
    if (oct_ref_where(c->in[0], c->in[1], c->in[2], y) != OCT_OK)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(y->dtype));
    return OCT_OK;
}

OCT_OP(Where);
const oct_op_def oct_op_Where = {"", "Where", where_infer, where_run, 0};
