/* Concat: inputs share rank and every dim but the axis. */
#include "kernels/ref/ref_data.h"
#include "ops/op.h"

static oct_status concat_axis(const oct_opctx *c, int *ax) {
    if (c->n_in < 1) return oct_op_fail(c, OCT_E_INVALID_ARG, "needs at least one input");
    for (int i = 0; i < c->n_in; i++)
        OCT_TRY(oct_op_need_input(c, i, OCT_UNDEFINED));
    const oct_attr *a = oct_attr_find(c->node, "axis");
    int64_t axis = 1; /* opset 1-3 default */
    if (a)
        axis = a->i;
    else if (c->opset >= 4)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute 'axis' is required");
    int r = c->in[0]->ndim;
    if (r == 0) return oct_op_fail(c, OCT_E_SHAPE, "input 0 is a scalar; Concat needs rank >= 1");
    return oct_op_axis(c, axis, r, ax);
}

static oct_status concat_infer(oct_opctx *c) {
    int ax = 0;
    OCT_TRY(concat_axis(c, &ax));
    const oct_tensor *x0 = c->in[0];
    if (!oct_dtype_size(x0->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x0->dtype));
    int64_t dims[OCT_MAX_DIMS];
    for (int d = 0; d < x0->ndim; d++)
        dims[d] = x0->dims[d];
    dims[ax] = 0;
    for (int i = 0; i < c->n_in; i++) {
        const oct_tensor *x = c->in[i];
        if (x->dtype != x0->dtype)
            return oct_op_fail(c, OCT_E_SHAPE, "input %d has dtype %s, input 0 has %s", i,
                               oct_dtype_name(x->dtype), oct_dtype_name(x0->dtype));
        if (x->ndim != x0->ndim)
            return oct_op_fail(c, OCT_E_SHAPE, "input %d has rank %d, input 0 has rank %d", i,
                               x->ndim, x0->ndim);
        for (int d = 0; d < x->ndim; d++) {
            if (d != ax && x->dims[d] != x0->dims[d]) {
                char s0[128], s1[128];
                return oct_op_fail(c, OCT_E_SHAPE,
                                   "input %d (%s) does not match input 0 (%s) "
                                   "outside axis %d",
                                   i, oct_shape_str(x->ndim, x->dims, s1, sizeof s1),
                                   oct_shape_str(x0->ndim, x0->dims, s0, sizeof s0), ax);
            }
        }
        dims[ax] += x->dims[ax];
    }
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], x0->dtype, x0->ndim, dims);
    return OCT_OK;
}

static oct_status concat_run(oct_opctx *c) {
    int ax = 0;
    OCT_TRY(concat_axis(c, &ax));
    if (oct_out(c, 0)) oct_ref_concat(c->n_in, c->in, ax, c->out[0]);
    return OCT_OK;
}

const oct_op_def oct_op_Concat = {"", "Concat", concat_infer, concat_run, 0};
