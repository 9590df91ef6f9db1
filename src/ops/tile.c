#include "kernels/ref/ref_data.h"
#include "ops/op.h"

static oct_status tile_shape(const oct_opctx *c, int64_t *dims) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0], *rep = c->in[1];
    if (!oct_dtype_size(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    if (rep->dtype != OCT_INT64 && rep->dtype != OCT_INT32)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (repeats) must be int64, got %s",
                           oct_dtype_name(rep->dtype));
    if (!rep->data) return OCT_E_DYNAMIC;
    if (rep->ndim != 1 || rep->dims[0] != x->ndim)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (repeats) must be 1-D with %d values", x->ndim);
    for (int i = 0; i < x->ndim; i++) {
        int64_t r = oct_ref_index_at(rep, i);
        if (r < 0)
            return oct_op_fail(c, OCT_E_SHAPE, "repeats[%d] = %lld is negative", i, (long long)r);
        if (r && x->dims[i] > INT64_MAX / r)
            return oct_op_fail(c, OCT_E_SHAPE, "output is too large");
        dims[i] = x->dims[i] * r;
    }
    return OCT_OK;
}

static oct_status tile_infer(oct_opctx *c) {
    int64_t dims[OCT_MAX_DIMS] = {0};
    OCT_TRY(tile_shape(c, dims));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[0]->ndim, dims);
    return OCT_OK;
}

static oct_status tile_run(oct_opctx *c) {
    int64_t dims[OCT_MAX_DIMS] = {0};
    OCT_TRY(tile_shape(c, dims));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    oct_tensor want = *y;
    oct_tensor_set_shape(&want, y->dtype, c->in[0]->ndim, dims);
    if (!oct_shape_equal(y, &want)) return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    oct_ref_tile(c->in[0], y);
    return OCT_OK;
}

const oct_op_def oct_op_Tile = {"", "Tile", tile_infer, tile_run, 0};
