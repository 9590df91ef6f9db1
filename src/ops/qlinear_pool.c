/* com.microsoft QLinearGlobalAveragePool (X, x_scale, x_zero_point,
 * y_scale, y_zero_point) and QLinearAveragePool (same inputs; kernel_shape,
 * strides, pads, auto_pad, ceil_mode, count_include_pad), both with the
 * channels_last attribute. uint8 or int8, per-tensor parameters. */
#include "kernels/ref/ref_quant.h"

static oct_status scalar_param(const oct_opctx *c, int i, oct_dtype dt, double def, double *v) {
    const oct_tensor *t = oct_in(c, i);
    if (!t) {
        *v = def;
        return OCT_OK;
    }
    if (dt != OCT_UNDEFINED ? t->dtype != dt : !oct_nn_is_real(t->dtype))
        return oct_op_fail(c, OCT_E_SHAPE, "input %d has dtype %s, expected %s", i,
                           oct_dtype_name(t->dtype),
                           dt != OCT_UNDEFINED ? oct_dtype_name(dt) : "a float type");
    if (oct_numel(t) != 1)
        return oct_op_fail(c, OCT_E_SHAPE, "input %d must be a scalar (per-tensor parameter)", i);
    *v = t->data ? oct_get_f64(t, 0) : def;
    return OCT_OK;
}

/* Everything but the window's output geometry. */
static oct_status qpool_common(const oct_opctx *c, oct_qpool_params *p) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 3, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (x->dtype != OCT_UINT8 && x->dtype != OCT_INT8)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "X has dtype %s; only uint8 and int8",
                           oct_dtype_name(x->dtype));
    if (x->ndim < 3 || x->ndim > OCT_MAX_DIMS)
        return oct_op_fail(c, OCT_E_SHAPE, "X has rank %d, expected N x C x spatial", x->ndim);
    p->dt = x->dtype;
    p->channels_last = oct_attr_int(c->node, "channels_last", 0) != 0;
    int nsp = x->ndim - 2;
    p->n = x->dims[0];
    p->c = x->dims[p->channels_last ? x->ndim - 1 : 1];
    p->w.nsp = nsp;
    for (int d = 0; d < nsp; d++)
        p->w.in[d] = x->dims[(p->channels_last ? 1 : 2) + d];
    double v[4];
    OCT_TRY(scalar_param(c, 1, OCT_UNDEFINED, 1, &v[0]));
    OCT_TRY(scalar_param(c, 2, x->dtype, 0, &v[1]));
    OCT_TRY(scalar_param(c, 3, OCT_UNDEFINED, 1, &v[2]));
    OCT_TRY(scalar_param(c, 4, x->dtype, 0, &v[3]));
    p->x_scale = (float)v[0];
    p->x_zp = (int32_t)v[1];
    p->y_scale = (float)v[2];
    p->y_zp = (int32_t)v[3];
    return OCT_OK;
}

static void set_output(oct_opctx *c, const oct_qpool_params *p) {
    if (!c->out[0]) return;
    int64_t dims[OCT_MAX_DIMS];
    int nsp = p->w.nsp;
    dims[0] = p->n;
    dims[p->channels_last ? nsp + 1 : 1] = p->c;
    for (int d = 0; d < nsp; d++)
        dims[(p->channels_last ? 1 : 2) + d] = p->w.out[d];
    oct_tensor_set_shape(c->out[0], p->dt, nsp + 2, dims);
}

static oct_status global_params(const oct_opctx *c, oct_qpool_params *p) {
    OCT_TRY(qpool_common(c, p));
    for (int d = 0; d < p->w.nsp; d++) {
        p->w.kernel[d] = p->w.in[d];
        p->w.out[d] = 1;
        p->w.stride[d] = p->w.dil[d] = 1;
        p->w.pad_b[d] = p->w.pad_e[d] = 0;
    }
    p->count_include_pad = 0;
    return OCT_OK;
}

static oct_status avg_params(const oct_opctx *c, oct_qpool_params *p) {
    OCT_TRY(qpool_common(c, p));
    int nsp = p->w.nsp;
    const int64_t *ks;
    if (oct_attr_ints(c->node, "kernel_shape", &ks) != nsp)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "kernel_shape must have %d values", nsp);
    int64_t in[OCT_MAX_DIMS];
    for (int d = 0; d < nsp; d++)
        in[d] = p->w.in[d];
    p->count_include_pad = oct_attr_int(c->node, "count_include_pad", 0) != 0;
    int ceil_mode = oct_attr_int(c->node, "ceil_mode", 0) != 0;
    OCT_TRY(oct_nn_window_params(c, nsp, in, ks, ceil_mode, &p->w));
    for (int d = 0; d < nsp; d++)
        if (p->w.dil[d] != 1)
            return oct_op_fail(c, OCT_E_UNSUPPORTED, "dilations are not supported");
    return OCT_OK;
}

static oct_status gavg_infer(oct_opctx *c) {
    oct_qpool_params p;
    OCT_TRY(global_params(c, &p));
    set_output(c, &p);
    return OCT_OK;
}

static oct_status gavg_run(oct_opctx *c) {
    oct_qpool_params p;
    OCT_TRY(global_params(c, &p));
    if (c->out[0]) oct_ref_qlinear_global_avgpool(&p, c->in[0]->data, c->out[0]->data);
    return OCT_OK;
}

static oct_status avg_infer(oct_opctx *c) {
    oct_qpool_params p;
    OCT_TRY(avg_params(c, &p));
    set_output(c, &p);
    return OCT_OK;
}

static oct_status avg_run(oct_opctx *c) {
    oct_qpool_params p;
    OCT_TRY(avg_params(c, &p));
    if (c->out[0]) oct_ref_qlinear_avgpool(&p, c->in[0]->data, c->out[0]->data);
    return OCT_OK;
}

const oct_op_def oct_op_QLinearGlobalAveragePool = {"com.microsoft", "QLinearGlobalAveragePool",
                                                    gavg_infer, gavg_run, 0};
const oct_op_def oct_op_QLinearAveragePool = {"com.microsoft", "QLinearAveragePool", avg_infer,
                                              avg_run, 0};
