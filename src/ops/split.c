/* Split: sizes from the `split` attribute (opset < 13) or input (13+), from
 * `num_outputs` (18+, last chunk may be smaller), or equal parts. */
#include <stdlib.h>

#include "kernels/ref/ref_data.h"
#include "ops/op.h"

/* Explicit sizes: one per output, non-negative, summing to the axis. */
static oct_status check_sizes(const oct_opctx *c, const int64_t *sizes, int64_t na, int axis,
                              int64_t d) {
    if (na != c->n_out)
        return oct_op_fail(c, OCT_E_SHAPE, "split has %lld values for %d outputs", (long long)na,
                           c->n_out);
    int64_t sum = 0;
    for (int i = 0; i < c->n_out; i++) {
        if (sizes[i] < 0 || sizes[i] > d)
            return oct_op_fail(c, OCT_E_SHAPE, "split size %lld is out of range",
                               (long long)sizes[i]);
        sum += sizes[i];
    }
    if (sum != d)
        return oct_op_fail(c, OCT_E_SHAPE, "split sizes sum to %lld, axis %d has %lld",
                           (long long)sum, axis, (long long)d);
    return OCT_OK;
}

/* sizes must hold c->n_out entries. */
static oct_status split_plan(const oct_opctx *c, int *axis, int64_t *sizes) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (x->ndim == 0)
        return oct_op_fail(c, OCT_E_SHAPE, "input 0 is a scalar; Split needs rank >= 1");
    if (!oct_dtype_size(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    OCT_TRY(oct_op_axis(c, oct_attr_int(c->node, "axis", 0), x->ndim, axis));
    int n = c->n_out;
    if (n < 1) return oct_op_fail(c, OCT_E_INVALID_ARG, "needs at least one output");
    int64_t d = x->dims[*axis];
    const oct_tensor *st = oct_in(c, 1);
    if (st && oct_numel(st) == 0) st = NULL; /* an empty split means "not given" */
    if (st && (c->opset >= 13 || c->opset < 2)) {
        if (st->dtype != OCT_INT64 && st->dtype != OCT_INT32)
            return oct_op_fail(c, OCT_E_SHAPE, "input 1 (split) must be int64, got %s",
                               oct_dtype_name(st->dtype));
        if (!st->data) return OCT_E_DYNAMIC;
        int64_t na = oct_numel(st);
        for (int64_t i = 0; i < na && i < n; i++)
            sizes[i] = oct_ref_index_at(st, i);
        return check_sizes(c, sizes, na, *axis, d);
    }
    const int64_t *av = NULL;
    int64_t na = c->opset < 13 ? oct_attr_ints(c->node, "split", &av) : -1;
    if (na > 0) {
        for (int64_t i = 0; i < na && i < n; i++)
            sizes[i] = av[i];
        return check_sizes(c, sizes, na, *axis, d);
    }
    const oct_attr *no = c->opset >= 18 ? oct_attr_find(c->node, "num_outputs") : NULL;
    if (no && no->i != n)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "num_outputs is %lld but the node has %d outputs",
                           (long long)no->i, n);
    if (d % n == 0) {
        for (int i = 0; i < n; i++)
            sizes[i] = d / n;
        return OCT_OK;
    }
    if (!no)
        return oct_op_fail(c, OCT_E_SHAPE,
                           "axis %d of size %lld does not split into %d equal parts", *axis,
                           (long long)d, n);
    int64_t chunk = (d + n - 1) / n, last = d - chunk * (n - 1);
    if (last <= 0) /* ONNX Runtime refuses these too */
        return oct_op_fail(c, OCT_E_SHAPE, "axis %d of size %lld cannot make %d chunks of %lld",
                           *axis, (long long)d, n, (long long)chunk);
    for (int i = 0; i < n; i++)
        sizes[i] = i == n - 1 ? last : chunk;
    return OCT_OK;
}

static oct_status split_infer(oct_opctx *c) {
    int axis = 0;
    int64_t *sizes = malloc(sizeof *sizes * (size_t)(c->n_out > 0 ? c->n_out : 1));
    if (!sizes) return oct_op_fail(c, OCT_E_NOMEM, "out of memory");
    oct_status s = split_plan(c, &axis, sizes);
    if (s == OCT_OK) {
        const oct_tensor *x = c->in[0];
        int64_t dims[OCT_MAX_DIMS];
        for (int d = 0; d < x->ndim; d++)
            dims[d] = x->dims[d];
        for (int i = 0; i < c->n_out; i++) {
            dims[axis] = sizes[i];
            if (c->out[i]) oct_tensor_set_shape(c->out[i], x->dtype, x->ndim, dims);
        }
    }
    free(sizes);
    return s;
}

static oct_status split_run(oct_opctx *c) {
    int axis = 0;
    int64_t *sizes = malloc(sizeof *sizes * (size_t)(c->n_out > 0 ? c->n_out : 1));
    if (!sizes) return oct_op_fail(c, OCT_E_NOMEM, "out of memory");
    oct_status s = split_plan(c, &axis, sizes);
    if (s == OCT_OK) oct_ref_split(c->in[0], axis, c->n_out, sizes, c->out);
    free(sizes);
    return s;
}

const oct_op_def oct_op_Split = {"", "Split", split_infer, split_run, 0};
