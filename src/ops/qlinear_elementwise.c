/* com.microsoft QLinearAdd and QLinearMul: inputs A, A_scale, A_zero_point,
 * B, B_scale, B_zero_point, C_scale, C_zero_point (zero points optional);
 * uint8 or int8 tensors with per-tensor parameters, numpy broadcasting. */
#include "kernels/ref/ref_quant.h"

/* Input i as a one-element parameter of dtype dt (OCT_UNDEFINED: float
 * type); def when absent. v NULL: check only. */
static oct_status scalar_param(const oct_opctx *c, int i, oct_dtype dt, double def, double *v) {
    const oct_tensor *t = oct_in(c, i);
    if (!t) {
        if (v) *v = def;
        return OCT_OK;
    }
    if (dt != OCT_UNDEFINED ? t->dtype != dt : !oct_nn_is_real(t->dtype))
        return oct_op_fail(c, OCT_E_SHAPE, "input %d has dtype %s, expected %s", i,
                           oct_dtype_name(t->dtype),
                           dt != OCT_UNDEFINED ? oct_dtype_name(dt) : "a float type");
    if (oct_numel(t) != 1)
        return oct_op_fail(c, OCT_E_SHAPE, "input %d must be a scalar (per-tensor parameter)", i);
    if (v) *v = oct_get_f64(t, 0);
    return OCT_OK;
}

static oct_status qbin_params(const oct_opctx *c, oct_qbinary_op op, oct_qbinary_params *p,
                              int values) {
    static const int required[] = {0, 1, 3, 4, 6};
    for (int i = 0; i < 5; i++)
        OCT_TRY(oct_op_need_input(c, required[i], OCT_UNDEFINED));
    const oct_tensor *a = c->in[0], *b = c->in[3];
    if (a->dtype != OCT_UINT8 && a->dtype != OCT_INT8)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "A has dtype %s; only uint8 and int8",
                           oct_dtype_name(a->dtype));
    if (b->dtype != a->dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "B has dtype %s, A %s", oct_dtype_name(b->dtype),
                           oct_dtype_name(a->dtype));
    p->op = op;
    p->dt = a->dtype;
    double v[6];
    OCT_TRY(scalar_param(c, 1, OCT_UNDEFINED, 1, values ? &v[0] : NULL));
    OCT_TRY(scalar_param(c, 2, a->dtype, 0, values ? &v[1] : NULL));
    OCT_TRY(scalar_param(c, 4, OCT_UNDEFINED, 1, values ? &v[2] : NULL));
    OCT_TRY(scalar_param(c, 5, a->dtype, 0, values ? &v[3] : NULL));
    OCT_TRY(scalar_param(c, 6, OCT_UNDEFINED, 1, values ? &v[4] : NULL));
    OCT_TRY(scalar_param(c, 7, a->dtype, 0, values ? &v[5] : NULL));
    if (values) {
        p->a_scale = (float)v[0];
        p->a_zp = (int32_t)v[1];
        p->b_scale = (float)v[2];
        p->b_zp = (int32_t)v[3];
        p->c_scale = (float)v[4];
        p->c_zp = (int32_t)v[5];
    }
    return OCT_OK;
}

static oct_status qbin_infer(oct_opctx *c, oct_qbinary_op op) {
    oct_qbinary_params p;
    OCT_TRY(qbin_params(c, op, &p, 0));
    const oct_tensor *a = c->in[0], *b = c->in[3];
    int nd;
    int64_t dims[OCT_MAX_DIMS];
    OCT_TRY(oct_broadcast_shape(c, a->ndim, a->dims, b->ndim, b->dims, &nd, dims));
    if (c->out[0]) oct_tensor_set_shape(c->out[0], a->dtype, nd, dims);
    return OCT_OK;
}

static oct_status qbin_run(oct_opctx *c, oct_qbinary_op op) {
    oct_qbinary_params p;
    OCT_TRY(qbin_params(c, op, &p, 1));
    if (c->out[0]) oct_ref_qlinear_binary(&p, c->in[0], c->in[3], c->out[0]);
    return OCT_OK;
}

static oct_status qadd_infer(oct_opctx *c) { return qbin_infer(c, OCT_QADD); }
static oct_status qadd_run(oct_opctx *c) { return qbin_run(c, OCT_QADD); }
static oct_status qmul_infer(oct_opctx *c) { return qbin_infer(c, OCT_QMUL); }
static oct_status qmul_run(oct_opctx *c) { return qbin_run(c, OCT_QMUL); }

const oct_op_def oct_op_QLinearAdd = {"com.microsoft", "QLinearAdd", qadd_infer, qadd_run, 0};
const oct_op_def oct_op_QLinearMul = {"com.microsoft", "QLinearMul", qmul_infer, qmul_run, 0};
