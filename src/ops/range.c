/* Range: max(ceil((limit - start) / delta), 0) elements, counted the way
 * ONNX Runtime counts them (difference in the input type, division in
 * double). */
#include <math.h>

#include "kernels/ref/ref_data.h"
#include "ops/op.h"

/* Refuses counts no tensor could hold before they reach an allocation. */
#define RANGE_MAX_ELEMS ((int64_t)1 << 40)

static oct_status range_count(const oct_opctx *c, int64_t *n) {
    for (int i = 0; i < 3; i++)
        OCT_TRY(oct_op_need_input(c, i, OCT_UNDEFINED));
    oct_dtype dt = c->in[0]->dtype;
    if (dt != OCT_FLOAT && dt != OCT_DOUBLE && dt != OCT_INT16 && dt != OCT_INT32 &&
        dt != OCT_INT64)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported", oct_dtype_name(dt));
    static const char *const names[] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; i++) {
        if (c->in[i]->dtype != dt)
            return oct_op_fail(c, OCT_E_SHAPE, "input %d (%s) has dtype %s, input 0 has %s", i,
                               names[i], oct_dtype_name(c->in[i]->dtype), oct_dtype_name(dt));
        if (oct_numel(c->in[i]) != 1 || c->in[i]->ndim > 1)
            return oct_op_fail(c, OCT_E_SHAPE, "input %d (%s) must be a scalar", i, names[i]);
    }
    for (int i = 0; i < 3; i++)
        if (!c->in[i]->data) return OCT_E_DYNAMIC;
    double q;
    if (dt == OCT_FLOAT) {
        float s = *(const float *)c->in[0]->data, l = *(const float *)c->in[1]->data;
        float d = *(const float *)c->in[2]->data;
        if (d == 0) return oct_op_fail(c, OCT_E_INVALID_ARG, "delta is 0");
        q = ceil((double)(l - s) / d);
    } else if (dt == OCT_DOUBLE) {
        double s = *(const double *)c->in[0]->data, l = *(const double *)c->in[1]->data;
        double d = *(const double *)c->in[2]->data;
        if (d == 0) return oct_op_fail(c, OCT_E_INVALID_ARG, "delta is 0");
        q = ceil((l - s) / d);
    } else {
        int64_t s = oct_get_i64(c->in[0], 0), l = oct_get_i64(c->in[1], 0);
        int64_t d = oct_get_i64(c->in[2], 0);
        if (d == 0) return oct_op_fail(c, OCT_E_INVALID_ARG, "delta is 0");
        if ((s > 0 && l < INT64_MIN + s) || (s < 0 && l > INT64_MAX + s))
            return oct_op_fail(c, OCT_E_INVALID_ARG, "limit - start overflows");
        q = ceil((double)(l - s) / (double)d);
    }
    if (q != q) return oct_op_fail(c, OCT_E_INVALID_ARG, "start, limit or delta is NaN");
    if (q > (double)RANGE_MAX_ELEMS)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "range has %g elements", q);
    *n = q > 0 ? (int64_t)q : 0;
    return OCT_OK;
}

static oct_status range_infer(oct_opctx *c) {
    int64_t n = 0;
    OCT_TRY(range_count(c, &n));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, 1, &n);
    return OCT_OK;
}

static oct_status range_run(oct_opctx *c) {
    int64_t n = 0;
    OCT_TRY(range_count(c, &n));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    if (y->dtype != c->in[0]->dtype || y->ndim != 1 || y->dims[0] != n)
        return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    oct_ref_range(c->in[0], c->in[2], y);
    return OCT_OK;
}

const oct_op_def oct_op_Range = {"", "Range", range_infer, range_run, 0};
