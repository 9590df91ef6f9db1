/* Reduce* ops. The axes come from the `axes` attribute (ReduceSum before
 * opset 13, the others before 18) or from the optional int64 input 1 (from
 * then on); whichever the node has is used. No axes (or an empty list)
 * reduces everything, unless noop_with_empty_axes = 1, which makes the op
 * an identity. keepdims (default 1) keeps reduced axes as size 1. */
#include <string.h>

#include "kernels/ref/ref_elementwise.h"
#include "ops/op.h"

/* mask[d] = 1 for reduced axes. noop_with_empty_axes leaves the mask
 * empty: reducing over no axes still applies the element function once
 * (ReduceL1 of [-1] is [1], ReduceSumSquare squares), as the ONNX reference
 * does. */
static oct_status reduce_axes(oct_opctx *c, unsigned char *mask) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    int r = x->ndim;
    int64_t axes[OCT_MAX_DIMS];
    int64_t n = 0;
    const int64_t *av;
    int64_t na = oct_attr_ints(c->node, "axes", &av);
    const oct_tensor *ai = oct_in(c, 1);
    if (na >= 0) {
        if (na > r)
            return oct_op_fail(c, OCT_E_SHAPE, "attribute axes has %lld values for rank %d",
                               (long long)na, r);
        for (int64_t i = 0; i < na; i++)
            axes[i] = av[i];
        n = na;
    } else if (ai) {
        if (ai->dtype != OCT_INT64 && ai->dtype != OCT_INT32)
            return oct_op_fail(c, OCT_E_SHAPE, "input 1 (axes) must be int64, got %s",
                               oct_dtype_name(ai->dtype));
        if (ai->ndim > 1) return oct_op_fail(c, OCT_E_SHAPE, "input 1 (axes) must be 1-D");
        if (!ai->data) return OCT_E_DYNAMIC;
        n = oct_read_ints(ai, axes, OCT_MAX_DIMS);
        if (n < 0 || n > r)
            return oct_op_fail(c, OCT_E_SHAPE, "input 1 (axes) has more values than rank %d", r);
    }
    memset(mask, 0, OCT_MAX_DIMS);
    if (n == 0) {
        if (!oct_attr_int(c->node, "noop_with_empty_axes", 0)) memset(mask, 1, (size_t)r);
        return OCT_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        int a;
        OCT_TRY(oct_op_axis(c, axes[i], r, &a));
        if (a >= r)
            return oct_op_fail(c, OCT_E_SHAPE, "axis %lld out of range for a scalar",
                               (long long)axes[i]);
        if (mask[a]) return oct_op_fail(c, OCT_E_SHAPE, "axis %d appears twice in axes", a);
        mask[a] = 1;
    }
    return OCT_OK;
}

static oct_status reduce_shape(oct_opctx *c, oct_reduce_op op, unsigned char *mask, int *nd,
                               int64_t *dims) {
    OCT_TRY(reduce_axes(c, mask));
    const oct_tensor *x = c->in[0];
    if (!oct_ref_reduce_supports(op, x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    int keep = oct_attr_int(c->node, "keepdims", 1) != 0;
    *nd = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (!mask[d])
            dims[(*nd)++] = x->dims[d];
        else if (keep)
            dims[(*nd)++] = 1;
    }
    return OCT_OK;
}

static oct_status reduce_infer(oct_opctx *c, oct_reduce_op op) {
    unsigned char mask[OCT_MAX_DIMS];
    int nd;
    int64_t dims[OCT_MAX_DIMS];
    OCT_TRY(reduce_shape(c, op, mask, &nd, dims));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, nd, dims);
    return OCT_OK;
}

static oct_status reduce_run(oct_opctx *c, oct_reduce_op op) {
    unsigned char mask[OCT_MAX_DIMS];
    int nd;
    int64_t dims[OCT_MAX_DIMS];
    oct_tensor want = {0};
    OCT_TRY(reduce_shape(c, op, mask, &nd, dims));
    oct_tensor *y = oct_out(c, 0);
    const oct_tensor *x = c->in[0];
    if (!y) return OCT_OK;
    oct_tensor_set_shape(&want, x->dtype, nd, dims);
    if (!oct_shape_equal(y, &want) || y->dtype != x->dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "output shape or dtype does not match the reduction");
    oct_status st = oct_ref_reduce(op, x, mask, y);
    if (st == OCT_E_NOMEM) return oct_op_fail(c, st, "out of memory");
    if (st != OCT_OK)
        return oct_op_fail(c, st, "dtype %s is not supported", oct_dtype_name(x->dtype));
    return OCT_OK;
}

#define DEF_REDUCE(Name, OP)                                                                       \
    static oct_status infer_##Name(oct_opctx *c) { return reduce_infer(c, OCT_RED_##OP); }         \
    static oct_status run_##Name(oct_opctx *c) { return reduce_run(c, OCT_RED_##OP); }             \
    OCT_OP(Name);                                                                                  \
    const oct_op_def oct_op_##Name = {"", #Name, infer_##Name, run_##Name, 0};

DEF_REDUCE(ReduceSum, SUM)
DEF_REDUCE(ReduceMean, MEAN)
DEF_REDUCE(ReduceMax, MAX)
DEF_REDUCE(ReduceMin, MIN)
DEF_REDUCE(ReduceProd, PROD)
DEF_REDUCE(ReduceL1, L1)
DEF_REDUCE(ReduceL2, L2)
DEF_REDUCE(ReduceLogSum, LOG_SUM)
DEF_REDUCE(ReduceLogSumExp, LOG_SUM_EXP)
DEF_REDUCE(ReduceSumSquare, SUM_SQUARE)
