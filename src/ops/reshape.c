/* The ops that change the shape but not the bytes: Reshape, Flatten,
 * Squeeze, Unsqueeze, Identity. Their run is a plain copy. */
#include "kernels/ref/ref_data.h"
#include "ops/op.h"

static oct_status need_data_input(const oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    if (!oct_dtype_size(c->in[0]->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(c->in[0]->dtype));
    return OCT_OK;
}

static oct_status set_out(oct_opctx *c, int ndim, const int64_t *dims) {
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, ndim, dims);
    return OCT_OK;
}

static oct_status copy_run(oct_opctx *c) {
    OCT_TRY(need_data_input(c));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    if (oct_numel(y) != oct_numel(c->in[0]) || y->dtype != c->in[0]->dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "output does not match the input's size");
    oct_ref_copy(c->in[0], y);
    return OCT_OK;
}

/* Int values of an attribute (opset < since) or of input 1. *n = -1: absent. */
static oct_status read_axes(const oct_opctx *c, const char *name, int64_t since, int64_t *v,
                            int64_t cap, int64_t *n) {
    *n = -1;
    if (c->opset < since) {
        const int64_t *a;
        int64_t k = oct_attr_ints(c->node, name, &a);
        if (k > cap)
            return oct_op_fail(c, OCT_E_SHAPE, "attribute '%s' has %lld values", name,
                               (long long)k);
        for (int64_t i = 0; i < k; i++)
            v[i] = a[i];
        *n = k;
        return OCT_OK;
    }
    const oct_tensor *t = oct_in(c, 1);
    if (!t) return OCT_OK;
    if (!t->data) return OCT_E_DYNAMIC;
    if (t->dtype != OCT_INT64 && t->dtype != OCT_INT32)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (%s) must be int64, got %s", name,
                           oct_dtype_name(t->dtype));
    if (t->ndim > 1 || oct_numel(t) > cap)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 (%s) must be 1-D with at most %lld values",
                           name, (long long)cap);
    *n = oct_read_ints(t, v, cap);
    return OCT_OK;
}

/* ---- Reshape ---- */
static oct_status reshape_infer(oct_opctx *c) {
    OCT_TRY(need_data_input(c));
    const oct_tensor *x = c->in[0];
    int64_t sh[OCT_MAX_DIMS], n;
    if (c->opset < 5) {
        const int64_t *a;
        n = oct_attr_ints(c->node, "shape", &a);
        if (n < 0) return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute 'shape' is required");
        if (n > OCT_MAX_DIMS)
            return oct_op_fail(c, OCT_E_UNSUPPORTED, "rank %lld > %d", (long long)n, OCT_MAX_DIMS);
        for (int64_t i = 0; i < n; i++)
            sh[i] = a[i];
    } else {
        OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
        const oct_tensor *s = c->in[1];
        if (!s->data) return OCT_E_DYNAMIC;
        if (s->dtype != OCT_INT64 && s->dtype != OCT_INT32)
            return oct_op_fail(c, OCT_E_SHAPE, "input 1 (shape) must be int64, got %s",
                               oct_dtype_name(s->dtype));
        if (s->ndim > 1) return oct_op_fail(c, OCT_E_SHAPE, "input 1 (shape) must be 1-D");
        if (oct_numel(s) > OCT_MAX_DIMS)
            return oct_op_fail(c, OCT_E_UNSUPPORTED, "rank %lld > %d", (long long)oct_numel(s),
                               OCT_MAX_DIMS);
        n = oct_read_ints(s, sh, OCT_MAX_DIMS);
    }
    int allowzero = c->opset >= 14 && oct_attr_int(c->node, "allowzero", 0);
    int64_t dims[OCT_MAX_DIMS], known = 1, total = oct_numel(x);
    int infer_at = -1, has_zero = 0;
    for (int i = 0; i < (int)n; i++) {
        int64_t v = sh[i];
        if (v == 0 && !allowzero) {
            if (i >= x->ndim)
                return oct_op_fail(c, OCT_E_SHAPE,
                                   "shape[%d] = 0 copies a dim the rank-%d input "
                                   "does not have",
                                   i, x->ndim);
            v = x->dims[i];
        } else if (v == -1) {
            if (infer_at >= 0) return oct_op_fail(c, OCT_E_SHAPE, "shape has more than one -1");
            infer_at = i;
            dims[i] = -1;
            continue;
        } else if (v < 0) {
            return oct_op_fail(c, OCT_E_SHAPE, "shape[%d] = %lld is negative", i, (long long)v);
        }
        if (v == 0) has_zero = 1;
        if (v && known > INT64_MAX / v) return oct_op_fail(c, OCT_E_SHAPE, "shape is too large");
        known *= v;
        dims[i] = v;
    }
    if (allowzero && has_zero && infer_at >= 0)
        return oct_op_fail(c, OCT_E_SHAPE, "shape has both 0 and -1 with allowzero=1");
    if (infer_at >= 0) {
        if (known == 0 || total % known)
            return oct_op_fail(c, OCT_E_SHAPE,
                               "cannot infer the -1 dim: %lld elements into "
                               "blocks of %lld",
                               (long long)total, (long long)known);
        dims[infer_at] = total / known;
    } else if (known != total) {
        char a[128], b[128];
        return oct_op_fail(c, OCT_E_SHAPE, "cannot reshape %s (%lld elements) to %s",
                           oct_shape_str(x->ndim, x->dims, a, sizeof a), (long long)total,
                           oct_shape_str((int)n, dims, b, sizeof b));
    }
    return set_out(c, (int)n, dims);
}

/* ---- Flatten ---- */
static oct_status flatten_infer(oct_opctx *c) {
    OCT_TRY(need_data_input(c));
    const oct_tensor *x = c->in[0];
    int r = x->ndim;
    int64_t axis = oct_attr_int(c->node, "axis", 1);
    if (axis < -r || axis > r)
        return oct_op_fail(c, OCT_E_SHAPE, "axis %lld out of range for rank %d", (long long)axis,
                           r);
    if (axis < 0) axis += r;
    int64_t dims[2] = {1, 1};
    for (int i = 0; i < r; i++)
        dims[i >= axis] *= x->dims[i];
    return set_out(c, 2, dims);
}

/* ---- Squeeze ---- */
static oct_status squeeze_infer(oct_opctx *c) {
    OCT_TRY(need_data_input(c));
    const oct_tensor *x = c->in[0];
    int64_t axes[OCT_MAX_DIMS], n;
    OCT_TRY(read_axes(c, "axes", 13, axes, OCT_MAX_DIMS, &n));
    unsigned drop = 0;
    if (n <= 0) { /* no axes (or an empty list, as ONNX Runtime reads it): all unit dims */
        for (int d = 0; d < x->ndim; d++)
            if (x->dims[d] == 1) drop |= 1u << d;
    }
    for (int64_t i = 0; i < n; i++) {
        int a;
        OCT_TRY(oct_op_axis(c, axes[i], x->ndim, &a));
        if (x->ndim == 0) return oct_op_fail(c, OCT_E_SHAPE, "cannot squeeze a scalar");
        if (drop & (1u << a)) return oct_op_fail(c, OCT_E_SHAPE, "axis %d is repeated", a);
        if (x->dims[a] != 1)
            return oct_op_fail(c, OCT_E_SHAPE, "cannot squeeze axis %d of size %lld", a,
                               (long long)x->dims[a]);
        drop |= 1u << a;
    }
    int64_t dims[OCT_MAX_DIMS];
    int r = 0;
    for (int d = 0; d < x->ndim; d++)
        if (!(drop & (1u << d))) dims[r++] = x->dims[d];
    return set_out(c, r, dims);
}

/* ---- Unsqueeze ---- */
static oct_status unsqueeze_infer(oct_opctx *c) {
    OCT_TRY(need_data_input(c));
    const oct_tensor *x = c->in[0];
    int64_t axes[OCT_MAX_DIMS], n;
    OCT_TRY(read_axes(c, "axes", 13, axes, OCT_MAX_DIMS, &n));
    if (n < 0) return oct_op_fail(c, OCT_E_INVALID_ARG, "axes are required");
    int r = x->ndim + (int)n;
    if (r > OCT_MAX_DIMS) return oct_op_fail(c, OCT_E_UNSUPPORTED, "rank %d > %d", r, OCT_MAX_DIMS);
    unsigned add = 0;
    for (int64_t i = 0; i < n; i++) {
        int a;
        OCT_TRY(oct_op_axis(c, axes[i], r, &a));
        if (add & (1u << a)) return oct_op_fail(c, OCT_E_SHAPE, "axis %d is repeated", a);
        add |= 1u << a;
    }
    int64_t dims[OCT_MAX_DIMS];
    for (int d = 0, j = 0; d < r; d++)
        dims[d] = add & (1u << d) ? 1 : x->dims[j++];
    return set_out(c, r, dims);
}

/* ---- Identity ---- */
static oct_status identity_infer(oct_opctx *c) {
    OCT_TRY(need_data_input(c));
    return set_out(c, c->in[0]->ndim, c->in[0]->dims);
}

const oct_op_def oct_op_Reshape = {"", "Reshape", reshape_infer, copy_run, 0};
const oct_op_def oct_op_Flatten = {"", "Flatten", flatten_infer, copy_run, 0};
const oct_op_def oct_op_Squeeze = {"", "Squeeze", squeeze_infer, copy_run, 0};
const oct_op_def oct_op_Unsqueeze = {"", "Unsqueeze", unsqueeze_infer, copy_run, 0};
const oct_op_def oct_op_Identity = {"", "Identity", identity_infer, copy_run, 0};
