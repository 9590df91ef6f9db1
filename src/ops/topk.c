/* TopK: k from the attribute (opset 1-9) or input 1 (10+); largest and
 * sorted from opset 11. Results are always sorted. */
#include "kernels/ref/ref_data.h"
#include "ops/op.h"

static oct_status topk_plan(const oct_opctx *c, int *ax, int64_t *k) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (!oct_dtype_is_float(x->dtype) && !oct_dtype_is_int(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    if (x->ndim == 0) return oct_op_fail(c, OCT_E_SHAPE, "input 0 must have rank >= 1");
    OCT_TRY(oct_op_axis(c, oct_attr_int(c->node, "axis", -1), x->ndim, ax));
    if (c->opset < 10) {
        const oct_attr *a = oct_attr_find(c->node, "k");
        if (!a) return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute 'k' is required");
        *k = a->i;
    } else {
        OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
        const oct_tensor *kt = c->in[1];
        if (kt->dtype != OCT_INT64 && kt->dtype != OCT_INT32)
            return oct_op_fail(c, OCT_E_SHAPE, "input 1 (K) must be int64, got %s",
                               oct_dtype_name(kt->dtype));
        if (oct_numel(kt) != 1 || kt->ndim > 1)
            return oct_op_fail(c, OCT_E_SHAPE, "input 1 (K) must hold one value");
        if (!kt->data) return OCT_E_DYNAMIC;
        *k = oct_ref_index_at(kt, 0);
    }
    if (*k < 0 || *k > x->dims[*ax])
        return oct_op_fail(c, OCT_E_SHAPE, "k = %lld is out of range for axis %d of size %lld",
                           (long long)*k, *ax, (long long)x->dims[*ax]);
    return OCT_OK;
}

static oct_status topk_infer(oct_opctx *c) {
    int ax = 0;
    int64_t k = 0, dims[OCT_MAX_DIMS] = {0};
    OCT_TRY(topk_plan(c, &ax, &k));
    const oct_tensor *x = c->in[0];
    for (int i = 0; i < x->ndim; i++)
        dims[i] = i == ax ? k : x->dims[i];
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], x->dtype, x->ndim, dims);
    if (oct_out(c, 1)) oct_tensor_set_shape(c->out[1], OCT_INT64, x->ndim, dims);
    return OCT_OK;
}

static oct_status topk_run(oct_opctx *c) {
    int ax = 0;
    int64_t k = 0;
    OCT_TRY(topk_plan(c, &ax, &k));
    oct_tensor *v = oct_out(c, 0), *ix = oct_out(c, 1);
    for (int o = 0; o < 2; o++) {
        oct_tensor *y = oct_out(c, o);
        if (y && (y->ndim != c->in[0]->ndim || y->dims[ax] != k))
            return oct_op_fail(c, OCT_E_SHAPE, "output %d shape mismatch", o);
    }
    int largest = c->opset >= 11 ? (int)oct_attr_int(c->node, "largest", 1) : 1;
    oct_status s = oct_ref_topk(c->in[0], ax, largest, v, ix);
    if (s != OCT_OK) return oct_op_fail(c, s, "out of memory");
    return OCT_OK;
}

const oct_op_def oct_op_TopK = {"", "TopK", topk_infer, topk_run, 0};
