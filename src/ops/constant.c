/* Constant (value from attributes) and ConstantOfShape (shape from input 0,
 * the one-element `value` attribute, float 0 by default). */
#include <string.h>

#include "kernels/ref/ref_data.h"
#include "ops/op.h"

/* ---- Constant ---- */
typedef struct {
    oct_dtype dt;
    int ndim;
    int64_t n;        /* element count of a 1-D list */
    const void *data; /* n elements, or the tensor's data */
    const oct_tensor *t;
    float f;
    int64_t i;
} const_val;

static oct_status constant_value(const oct_opctx *c, const_val *v) {
    static const char *const unsupported[] = {"sparse_value", "value_string", "value_strings"};
    for (size_t k = 0; k < sizeof unsupported / sizeof *unsupported; k++)
        if (oct_attr_find(c->node, unsupported[k]))
            return oct_op_fail(c, OCT_E_UNSUPPORTED, "attribute '%s' is not supported",
                               unsupported[k]);
    const oct_attr *a;
    memset(v, 0, sizeof *v);
    if ((v->t = oct_attr_tensor(c->node, "value")) != NULL) {
        if (!oct_dtype_size(v->t->dtype))
            return oct_op_fail(c, OCT_E_UNSUPPORTED, "value of dtype %s is not supported",
                               oct_dtype_name(v->t->dtype));
        if (!v->t->data && oct_nbytes(v->t))
            return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute 'value' has no data");
        v->dt = v->t->dtype;
        v->ndim = v->t->ndim;
        v->data = v->t->data;
    } else if ((a = oct_attr_find(c->node, "value_float")) != NULL) {
        v->dt = OCT_FLOAT;
        v->f = a->f;
        v->data = &v->f;
    } else if ((a = oct_attr_find(c->node, "value_int")) != NULL) {
        v->dt = OCT_INT64;
        v->i = a->i;
        v->data = &v->i;
    } else if ((a = oct_attr_find(c->node, "value_floats")) != NULL) {
        v->dt = OCT_FLOAT;
        v->ndim = 1;
        v->n = a->n;
        v->data = a->floats;
    } else if ((a = oct_attr_find(c->node, "value_ints")) != NULL) {
        v->dt = OCT_INT64;
        v->ndim = 1;
        v->n = a->n;
        v->data = a->ints;
    } else {
        return oct_op_fail(c, OCT_E_INVALID_ARG, "has no value attribute");
    }
    return OCT_OK;
}

static oct_status constant_infer(oct_opctx *c) {
    const_val v;
    OCT_TRY(constant_value(c, &v));
    if (!oct_out(c, 0)) return OCT_OK;
    if (v.t)
        oct_tensor_set_shape(c->out[0], v.dt, v.ndim, v.t->dims);
    else
        oct_tensor_set_shape(c->out[0], v.dt, v.ndim, &v.n);
    return OCT_OK;
}

static oct_status constant_run(oct_opctx *c) {
    const_val v;
    OCT_TRY(constant_value(c, &v));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    int64_t n = v.t ? oct_numel(v.t) : v.ndim ? v.n : 1;
    if (y->dtype != v.dt || oct_numel(y) != n)
        return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    if (n) memcpy(y->data, v.data, oct_nbytes(y));
    return OCT_OK;
}

/* ---- ConstantOfShape ---- */
static oct_status cos_plan(const oct_opctx *c, int *r, int64_t *dims, const oct_tensor **val) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *s = c->in[0];
    if (s->dtype != OCT_INT64 && s->dtype != OCT_INT32)
        return oct_op_fail(c, OCT_E_SHAPE, "input 0 (shape) must be int64, got %s",
                           oct_dtype_name(s->dtype));
    if (!s->data) return OCT_E_DYNAMIC;
    if (s->ndim > 1 || oct_numel(s) > OCT_MAX_DIMS)
        return oct_op_fail(c, OCT_E_SHAPE, "input 0 (shape) must be 1-D with at most %d values",
                           OCT_MAX_DIMS);
    *r = (int)oct_read_ints(s, dims, OCT_MAX_DIMS);
    for (int i = 0; i < *r; i++)
        if (dims[i] < 0)
            return oct_op_fail(c, OCT_E_SHAPE, "shape[%d] = %lld is negative", i,
                               (long long)dims[i]);
    *val = oct_attr_tensor(c->node, "value");
    if (*val) {
        if (oct_numel(*val) != 1 || !(*val)->data)
            return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute 'value' must hold one element");
        if (!oct_dtype_size((*val)->dtype))
            return oct_op_fail(c, OCT_E_UNSUPPORTED, "value of dtype %s is not supported",
                               oct_dtype_name((*val)->dtype));
    }
    return OCT_OK;
}

static oct_status cos_infer(oct_opctx *c) {
    int r = 0;
    int64_t dims[OCT_MAX_DIMS];
    const oct_tensor *val = NULL;
    OCT_TRY(cos_plan(c, &r, dims, &val));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], val ? val->dtype : OCT_FLOAT, r, dims);
    return OCT_OK;
}

static oct_status cos_run(oct_opctx *c) {
    int r = 0;
    int64_t dims[OCT_MAX_DIMS];
    const oct_tensor *val = NULL;
    OCT_TRY(cos_plan(c, &r, dims, &val));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    if (y->dtype != (val ? val->dtype : OCT_FLOAT) || oct_numel(y) != oct_shape_numel(r, dims))
        return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    if (val)
        oct_ref_fill(val->data, y);
    else
        memset(y->data, 0, oct_nbytes(y));
    return OCT_OK;
}

const oct_op_def oct_op_Constant = {"", "Constant", constant_infer, constant_run, 0};
const oct_op_def oct_op_ConstantOfShape = {"", "ConstantOfShape", cos_infer, cos_run, 0};
