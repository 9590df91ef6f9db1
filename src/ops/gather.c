/* Gather, GatherElements, GatherND. Indices are int32 or int64; negative
 * values count from the end; out-of-range values fail at run time. */
#include "kernels/ref/ref_data.h"
#include "ops/op.h"

static oct_status check_inputs(const oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0], *idx = c->in[1];
    if (!oct_dtype_size(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    if (idx->dtype != OCT_INT64 && idx->dtype != OCT_INT32)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (indices) must be int32 or int64, got %s",
                           oct_dtype_name(idx->dtype));
    if (x->ndim == 0) return oct_op_fail(c, OCT_E_SHAPE, "input 0 (data) must have rank >= 1");
    return OCT_OK;
}

static oct_status bad_index(const oct_opctx *c, oct_status s, int64_t bad) {
    if (s == OCT_E_INVALID_ARG)
        return oct_op_fail(c, s, "index %lld in input 1 is out of range", (long long)bad);
    return s;
}

/* ---- Gather ---- */
static oct_status gather_infer(oct_opctx *c) {
    OCT_TRY(check_inputs(c));
    const oct_tensor *x = c->in[0], *idx = c->in[1];
    int ax = 0;
    OCT_TRY(oct_op_axis(c, oct_attr_int(c->node, "axis", 0), x->ndim, &ax));
    int r = x->ndim - 1 + idx->ndim;
    if (r > OCT_MAX_DIMS) return oct_op_fail(c, OCT_E_UNSUPPORTED, "rank %d > %d", r, OCT_MAX_DIMS);
    int64_t dims[OCT_MAX_DIMS] = {0};
    int k = 0;
    for (int i = 0; i < ax; i++)
        dims[k++] = x->dims[i];
    for (int i = 0; i < idx->ndim; i++)
        dims[k++] = idx->dims[i];
    for (int i = ax + 1; i < x->ndim; i++)
        dims[k++] = x->dims[i];
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], x->dtype, r, dims);
    return OCT_OK;
}

static oct_status gather_run(oct_opctx *c) {
    OCT_TRY(check_inputs(c));
    int ax = 0;
    int64_t bad = 0;
    OCT_TRY(oct_op_axis(c, oct_attr_int(c->node, "axis", 0), c->in[0]->ndim, &ax));
    if (!oct_out(c, 0)) return OCT_OK;
    oct_status s = oct_ref_gather(c->in[0], c->in[1], ax, c->out[0], &bad);
    return bad_index(c, s, bad);
}

/* ---- GatherElements ---- */
static oct_status ge_check(const oct_opctx *c, int *ax) {
    OCT_TRY(check_inputs(c));
    const oct_tensor *x = c->in[0], *idx = c->in[1];
    OCT_TRY(oct_op_axis(c, oct_attr_int(c->node, "axis", 0), x->ndim, ax));
    if (idx->ndim != x->ndim)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (indices) has rank %d, data has rank %d",
                           idx->ndim, x->ndim);
    /* outside the axis, indices walk data's coordinates directly */
    for (int d = 0; d < x->ndim; d++)
        if (d != *ax && idx->dims[d] > x->dims[d])
            return oct_op_fail(c, OCT_E_SHAPE, "indices dim %d (%lld) exceeds data's (%lld)", d,
                               (long long)idx->dims[d], (long long)x->dims[d]);
    return OCT_OK;
}

static oct_status ge_infer(oct_opctx *c) {
    int ax = 0;
    OCT_TRY(ge_check(c, &ax));
    if (oct_out(c, 0))
        oct_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[1]->ndim, c->in[1]->dims);
    return OCT_OK;
}

static oct_status ge_run(oct_opctx *c) {
    int ax = 0;
    int64_t bad = 0;
    OCT_TRY(ge_check(c, &ax));
    if (!oct_out(c, 0)) return OCT_OK;
    oct_status s = oct_ref_gather_elements(c->in[0], c->in[1], ax, c->out[0], &bad);
    return bad_index(c, s, bad);
}

/* ---- GatherND ---- */
static oct_status gnd_check(const oct_opctx *c, int *b, int *r, int64_t *dims) {
    OCT_TRY(check_inputs(c));
    const oct_tensor *x = c->in[0], *idx = c->in[1];
    int64_t bd = oct_attr_int(c->node, "batch_dims", 0);
    int q = idx->ndim;
    if (q < 1) return oct_op_fail(c, OCT_E_SHAPE, "input 1 (indices) must have rank >= 1");
    if (bd < 0 || bd >= q || bd >= x->ndim)
        return oct_op_fail(c, OCT_E_SHAPE, "batch_dims %lld is out of range", (long long)bd);
    *b = (int)bd;
    for (int i = 0; i < *b; i++)
        if (idx->dims[i] != x->dims[i])
            return oct_op_fail(c, OCT_E_SHAPE, "batch dim %d differs: data %lld, indices %lld", i,
                               (long long)x->dims[i], (long long)idx->dims[i]);
    int64_t k = idx->dims[q - 1];
    if (k < 1 || k > x->ndim - *b)
        return oct_op_fail(c, OCT_E_SHAPE, "indices' last dim %lld must be in [1, %d]",
                           (long long)k, x->ndim - *b);
    *r = q - 1 + x->ndim - *b - (int)k;
    if (*r > OCT_MAX_DIMS)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "rank %d > %d", *r, OCT_MAX_DIMS);
    int n = 0;
    for (int i = 0; i < q - 1; i++)
        dims[n++] = idx->dims[i];
    for (int i = *b + (int)k; i < x->ndim; i++)
        dims[n++] = x->dims[i];
    return OCT_OK;
}

static oct_status gnd_infer(oct_opctx *c) {
    int b = 0, r = 0;
    int64_t dims[OCT_MAX_DIMS] = {0};
    OCT_TRY(gnd_check(c, &b, &r, dims));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, r, dims);
    return OCT_OK;
}

static oct_status gnd_run(oct_opctx *c) {
    int b = 0, r = 0;
    int64_t dims[OCT_MAX_DIMS] = {0}, bad = 0;
    OCT_TRY(gnd_check(c, &b, &r, dims));
    if (!oct_out(c, 0)) return OCT_OK;
    oct_status s = oct_ref_gather_nd(c->in[0], c->in[1], b, c->out[0], &bad);
    return bad_index(c, s, bad);
}

const oct_op_def oct_op_Gather = {"", "Gather", gather_infer, gather_run, 0};
const oct_op_def oct_op_GatherElements = {"", "GatherElements", ge_infer, ge_run, 0};
const oct_op_def oct_op_GatherND = {"", "GatherND", gnd_infer, gnd_run, 0};
