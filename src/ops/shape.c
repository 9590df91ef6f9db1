/* Shape and Size need only the input's shape, never its data: the runtime
 * may run them on a shape-only input to fold Shape -> Gather -> Concat ->
 * Reshape chains. */
#include "ops/op.h"

static void shape_range(const oct_opctx *c, int r, int64_t *s, int64_t *e) {
    *s = 0;
    *e = r;
    if (c->opset >= 15) {
        *s = oct_attr_int(c->node, "start", 0);
        *e = oct_attr_int(c->node, "end", r);
    }
    if (*s < 0) *s += r;
    if (*e < 0) *e += r;
    *s = *s < 0 ? 0 : *s > r ? r : *s;
    *e = *e < 0 ? 0 : *e > r ? r : *e;
    if (*e < *s) *e = *s;
}

static oct_status shape_infer(oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    int64_t s, e;
    shape_range(c, c->in[0]->ndim, &s, &e);
    int64_t n = e - s;
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], OCT_INT64, 1, &n);
    return OCT_OK;
}

static oct_status shape_run(oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    oct_tensor *y = oct_out(c, 0);
    int64_t s, e;
    shape_range(c, x->ndim, &s, &e);
    if (!y) return OCT_OK;
    if (y->dtype != OCT_INT64 || y->ndim != 1 || y->dims[0] != e - s)
        return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    for (int64_t i = s; i < e; i++)
        ((int64_t *)y->data)[i - s] = x->dims[i];
    return OCT_OK;
}

static oct_status size_infer(oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], OCT_INT64, 0, NULL);
    return OCT_OK;
}

static oct_status size_run(oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    if (y->dtype != OCT_INT64 || oct_numel(y) != 1)
        return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    *(int64_t *)y->data = oct_numel(c->in[0]);
    return OCT_OK;
}

const oct_op_def oct_op_Shape = {"", "Shape", shape_infer, shape_run, 0};
const oct_op_def oct_op_Size = {"", "Size", size_infer, size_run, 0};
