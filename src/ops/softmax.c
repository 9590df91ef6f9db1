/* Softmax, LogSoftmax, Hardmax. Before opset 13 the input is coerced to
 * 2-D at `axis` (default 1) and the op runs over the flattened trailing
 * dims; from 13 it runs along `axis` alone (default -1). */
#include <stdlib.h>

#include "kernels/ref/ref_nn.h"

static oct_status sm_check(const oct_opctx *c, int64_t *outer, int64_t *n, int64_t *inner) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (!oct_nn_is_real(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "input has dtype %s; only float dtypes",
                           oct_dtype_name(x->dtype));
    int r = x->ndim, axis;
    int legacy = c->opset < 13;
    OCT_TRY(oct_op_axis(c, oct_attr_int(c->node, "axis", legacy ? 1 : -1), r, &axis));
    if (r == 0) { /* a scalar is a set of one */
        *outer = *n = *inner = 1;
        return OCT_OK;
    }
    *outer = oct_shape_numel(axis, x->dims);
    if (legacy) {
        *n = oct_shape_numel(r - axis, x->dims + axis);
        *inner = 1;
    } else {
        *n = x->dims[axis];
        *inner = oct_shape_numel(r - axis - 1, x->dims + axis + 1);
    }
    return OCT_OK;
}

static oct_status sm_infer(oct_opctx *c) {
    int64_t o, n, i;
    OCT_TRY(sm_check(c, &o, &n, &i));
    return oct_infer_same_as(c, 0);
}

static oct_status sm_run(oct_opctx *c, oct_softmax_kind kind) {
    int64_t outer, n, inner;
    OCT_TRY(sm_check(c, &outer, &n, &inner));
    if (!c->out[0]) return OCT_OK;
    double *x = oct_nn_load_f64(c->in[0]);
    double *y = malloc((size_t)(oct_numel(c->in[0]) + 1) * sizeof *y);
    if (x && y) {
        oct_ref_softmax(kind, outer, n, inner, x, y);
        oct_nn_store_f64(c->out[0], y);
    }
    int ok = x && y;
    free(x);
    free(y);
    return ok ? OCT_OK : oct_op_fail(c, OCT_E_NOMEM, "out of memory");
}

static oct_status softmax_run(oct_opctx *c) { return sm_run(c, OCT_SOFTMAX); }
static oct_status logsoftmax_run(oct_opctx *c) { return sm_run(c, OCT_LOGSOFTMAX); }
static oct_status hardmax_run(oct_opctx *c) { return sm_run(c, OCT_HARDMAX); }

const oct_op_def oct_op_Softmax = {"", "Softmax", sm_infer, softmax_run, 0};
const oct_op_def oct_op_LogSoftmax = {"", "LogSoftmax", sm_infer, logsoftmax_run, 0};
const oct_op_def oct_op_Hardmax = {"", "Hardmax", sm_infer, hardmax_run, 0};
