/* ScatterElements (and its opset 9-10 name Scatter) and ScatterND, with the
 * reductions of opset 16 (none/add/mul) and 18 (max/min). */
#include <string.h>

#include "kernels/ref/ref_data.h"
#include "ops/op.h"

static oct_status reduction(const oct_opctx *c, oct_scatter_reduce *r) {
    const char *s = c->opset >= 16 ? oct_attr_str(c->node, "reduction", "none") : "none";
    if (!strcmp(s, "none"))
        *r = OCT_SCATTER_NONE;
    else if (!strcmp(s, "add"))
        *r = OCT_SCATTER_ADD;
    else if (!strcmp(s, "mul"))
        *r = OCT_SCATTER_MUL;
    else if (!strcmp(s, "max") && c->opset >= 18)
        *r = OCT_SCATTER_MAX;
    else if (!strcmp(s, "min") && c->opset >= 18)
        *r = OCT_SCATTER_MIN;
    else
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "reduction '%s' is not supported at opset %lld", s,
                           (long long)c->opset);
    return OCT_OK;
}

static oct_status check_common(const oct_opctx *c, oct_scatter_reduce *r) {
    for (int i = 0; i < 3; i++)
        OCT_TRY(oct_op_need_input(c, i, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0], *idx = c->in[1], *u = c->in[2];
    OCT_TRY(reduction(c, r));
    if (!oct_ref_scatter_supports(x->dtype, *r))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported with this reduction",
                           oct_dtype_name(x->dtype));
    if (idx->dtype != OCT_INT64 && idx->dtype != OCT_INT32)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (indices) must be int32 or int64, got %s",
                           oct_dtype_name(idx->dtype));
    if (u->dtype != x->dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "input 2 (updates) has dtype %s, data has %s",
                           oct_dtype_name(u->dtype), oct_dtype_name(x->dtype));
    if (x->ndim == 0) return oct_op_fail(c, OCT_E_SHAPE, "input 0 (data) must have rank >= 1");
    return OCT_OK;
}

static oct_status bad_index(const oct_opctx *c, oct_status s, int64_t bad) {
    if (s == OCT_E_INVALID_ARG)
        return oct_op_fail(c, s, "index %lld in input 1 is out of range", (long long)bad);
    return s;
}

static oct_status infer_as_data(oct_opctx *c) {
    if (oct_out(c, 0))
        oct_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[0]->ndim, c->in[0]->dims);
    return OCT_OK;
}

/* ---- ScatterElements ---- */
static oct_status se_check(const oct_opctx *c, int *ax, oct_scatter_reduce *r) {
    OCT_TRY(check_common(c, r));
    const oct_tensor *x = c->in[0], *idx = c->in[1], *u = c->in[2];
    OCT_TRY(oct_op_axis(c, oct_attr_int(c->node, "axis", 0), x->ndim, ax));
    if (idx->ndim != x->ndim || !oct_shape_equal(idx, u))
        return oct_op_fail(c, OCT_E_SHAPE,
                           "indices and updates must have data's rank and equal shapes");
    /* outside the axis, indices walk data's coordinates directly */
    for (int d = 0; d < x->ndim; d++)
        if (d != *ax && idx->dims[d] > x->dims[d])
            return oct_op_fail(c, OCT_E_SHAPE, "indices dim %d (%lld) exceeds data's (%lld)", d,
                               (long long)idx->dims[d], (long long)x->dims[d]);
    return OCT_OK;
}

static oct_status se_infer(oct_opctx *c) {
    int ax = 0;
    oct_scatter_reduce r = OCT_SCATTER_NONE;
    OCT_TRY(se_check(c, &ax, &r));
    return infer_as_data(c);
}

static oct_status se_run(oct_opctx *c) {
    int ax = 0;
    oct_scatter_reduce r = OCT_SCATTER_NONE;
    int64_t bad = 0;
    OCT_TRY(se_check(c, &ax, &r));
    if (!oct_out(c, 0)) return OCT_OK;
    oct_status s = oct_ref_scatter_elements(c->in[0], c->in[1], c->in[2], ax, r, c->out[0], &bad);
    return bad_index(c, s, bad);
}

/* ---- ScatterND ---- */
static oct_status snd_check(const oct_opctx *c, oct_scatter_reduce *r) {
    OCT_TRY(check_common(c, r));
    const oct_tensor *x = c->in[0], *idx = c->in[1], *u = c->in[2];
    int q = idx->ndim;
    if (q < 1) return oct_op_fail(c, OCT_E_SHAPE, "input 1 (indices) must have rank >= 1");
    int64_t k = idx->dims[q - 1];
    if (k > x->ndim)
        return oct_op_fail(c, OCT_E_SHAPE, "indices' last dim %lld exceeds data's rank %d",
                           (long long)k, x->ndim);
    int ur = q - 1 + x->ndim - (int)k;
    int ok = u->ndim == ur;
    for (int i = 0; ok && i < q - 1; i++)
        ok = u->dims[i] == idx->dims[i];
    for (int i = (int)k; ok && i < x->ndim; i++)
        ok = u->dims[q - 1 + i - k] == x->dims[i];
    if (!ok) {
        char s[128];
        return oct_op_fail(c, OCT_E_SHAPE,
                           "input 2 (updates) has shape %s, expected "
                           "indices.shape[:-1] + data.shape[%lld:]",
                           oct_shape_str(u->ndim, u->dims, s, sizeof s), (long long)k);
    }
    return OCT_OK;
}

static oct_status snd_infer(oct_opctx *c) {
    oct_scatter_reduce r = OCT_SCATTER_NONE;
    OCT_TRY(snd_check(c, &r));
    return infer_as_data(c);
}

static oct_status snd_run(oct_opctx *c) {
    oct_scatter_reduce r = OCT_SCATTER_NONE;
    int64_t bad = 0;
    OCT_TRY(snd_check(c, &r));
    if (!oct_out(c, 0)) return OCT_OK;
    oct_status s = oct_ref_scatter_nd(c->in[0], c->in[1], c->in[2], r, c->out[0], &bad);
    return bad_index(c, s, bad);
}

const oct_op_def oct_op_ScatterElements = {"", "ScatterElements", se_infer, se_run, 0};
/* Not in the registry list yet: Scatter is ScatterElements' name in opsets 9-10. */
const oct_op_def oct_op_Scatter = {"", "Scatter", se_infer, se_run, 0};
const oct_op_def oct_op_ScatterND = {"", "ScatterND", snd_infer, snd_run, 0};
