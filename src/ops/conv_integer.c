/* ConvInteger (int32 output) and QLinearConv (requantized to 8 bits): N-D
 * convolution of uint8/int8 inputs with groups, dilations, strides and
 * pads / auto_pad. Zero points and scales of the weights may be per output
 * channel. */
#include <stdlib.h>

#include "kernels/ref/ref_quant.h"

static int is_q8(oct_dtype dt) { return dt == OCT_UINT8 || dt == OCT_INT8; }

oct_status oct_qconv_params_get(const oct_opctx *c, int x_index, int w_index, oct_conv_params *p) {
    OCT_TRY(oct_op_need_input(c, x_index, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, w_index, OCT_UNDEFINED));
    const oct_tensor *x = c->in[x_index], *w = c->in[w_index];
    if (!is_q8(x->dtype) || !is_q8(w->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "x is %s and w %s; only uint8 and int8",
                           oct_dtype_name(x->dtype), oct_dtype_name(w->dtype));
    if (x->ndim < 3)
        return oct_op_fail(c, OCT_E_SHAPE, "x has rank %d, expected N x C x spatial", x->ndim);
    if (w->ndim != x->ndim)
        return oct_op_fail(c, OCT_E_SHAPE, "w has rank %d, x has rank %d", w->ndim, x->ndim);
    int nsp = x->ndim - 2;
    p->n = x->dims[0];
    p->c = x->dims[1];
    p->m = w->dims[0];
    p->group = oct_attr_int(c->node, "group", 1);
    if (p->group < 1 || p->c % p->group || p->m % p->group)
        return oct_op_fail(c, OCT_E_INVALID_ARG,
                           "group %lld must divide the %lld input and %lld output channels",
                           (long long)p->group, (long long)p->c, (long long)p->m);
    if (w->dims[1] * p->group != p->c)
        return oct_op_fail(c, OCT_E_SHAPE, "w has %lld input channels per group, x has %lld / %lld",
                           (long long)w->dims[1], (long long)p->c, (long long)p->group);
    const int64_t *ks;
    int64_t nk = oct_attr_ints(c->node, "kernel_shape", &ks);
    if (nk >= 0 && nk != nsp)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "kernel_shape has %lld values, expected %d",
                           (long long)nk, nsp);
    for (int i = 0; i < nk; i++)
        if (ks[i] != w->dims[2 + i])
            return oct_op_fail(c, OCT_E_SHAPE, "kernel_shape[%d] = %lld but w has %lld", i,
                               (long long)ks[i], (long long)w->dims[2 + i]);
    return oct_nn_window_params(c, nsp, x->dims + 2, w->dims + 2, 0, &p->w);
}

/* Input i, when present, must be a scalar or 1-D of n, of dtype dt
 * (OCT_UNDEFINED: any float type). */
static oct_status check_vec(const oct_opctx *c, int i, int64_t n, oct_dtype dt) {
    const oct_tensor *t = oct_in(c, i);
    if (!t) return OCT_OK;
    if (dt != OCT_UNDEFINED ? t->dtype != dt : !oct_nn_is_real(t->dtype))
        return oct_op_fail(c, OCT_E_SHAPE, "input %d has dtype %s, expected %s", i,
                           oct_dtype_name(t->dtype),
                           dt != OCT_UNDEFINED ? oct_dtype_name(dt) : "a float type");
    int64_t k = oct_numel(t);
    if (t->ndim > 1 || (k != 1 && k != n))
        return oct_op_fail(c, OCT_E_SHAPE, "input %d must be a scalar or 1-D of %lld", i,
                           (long long)n);
    return OCT_OK;
}

/* Input i as n values (one value broadcast), def when absent. */
static oct_status read_vec(const oct_opctx *c, int i, int64_t n, oct_dtype dt, double def,
                           double *v) {
    OCT_TRY(check_vec(c, i, n, dt));
    const oct_tensor *t = oct_in(c, i);
    int64_t k = t ? oct_numel(t) : 0;
    for (int64_t j = 0; j < n; j++)
        v[j] = t ? oct_get_f64(t, k == 1 ? 0 : j) : def;
    return OCT_OK;
}

static oct_status set_output(oct_opctx *c, const oct_conv_params *p, oct_dtype dt) {
    int64_t dims[OCT_MAX_DIMS] = {p->n, p->m};
    for (int i = 0; i < p->w.nsp; i++)
        dims[2 + i] = p->w.out[i];
    if (c->out[0]) oct_tensor_set_shape(c->out[0], dt, p->w.nsp + 2, dims);
    return OCT_OK;
}

/* ---- ConvInteger: x, w, x_zero_point, w_zero_point ---- */

static oct_status convint_infer(oct_opctx *c) {
    oct_conv_params p;
    OCT_TRY(oct_qconv_params_get(c, 0, 1, &p));
    OCT_TRY(check_vec(c, 2, 1, c->in[0]->dtype));
    OCT_TRY(check_vec(c, 3, p.m, c->in[1]->dtype));
    return set_output(c, &p, OCT_INT32);
}

static oct_status convint_run(oct_opctx *c) {
    oct_conv_params p;
    OCT_TRY(oct_qconv_params_get(c, 0, 1, &p));
    if (!c->out[0]) return OCT_OK;
    double xz;
    double *wz = malloc((size_t)p.m * sizeof *wz + 1);
    int32_t *wzi = malloc((size_t)p.m * sizeof *wzi + 1);
    oct_status st = OCT_E_NOMEM;
    if (wz && wzi) {
        st = read_vec(c, 2, 1, c->in[0]->dtype, 0, &xz);
        if (!st) st = read_vec(c, 3, p.m, c->in[1]->dtype, 0, wz);
        if (!st) {
            for (int64_t m = 0; m < p.m; m++)
                wzi[m] = (int32_t)wz[m];
            st = oct_ref_conv_integer(&p, c->in[0], (int32_t)xz, c->in[1], wzi, c->out[0]->data);
            if (st) oct_op_fail(c, st, "out of memory");
        }
    } else {
        oct_op_fail(c, st, "out of memory");
    }
    free(wz);
    free(wzi);
    return st;
}

/* ---- QLinearConv: x, x_scale, x_zero_point, w, w_scale, w_zero_point,
 * y_scale, y_zero_point, B ---- */

static oct_dtype qconv_out_dtype(const oct_opctx *c) {
    const oct_tensor *yz = oct_in(c, 7);
    return yz ? yz->dtype : c->in[0]->dtype;
}

static oct_status qconv_infer(oct_opctx *c) {
    oct_conv_params p;
    OCT_TRY(oct_qconv_params_get(c, 0, 3, &p));
    OCT_TRY(check_vec(c, 1, 1, OCT_UNDEFINED));
    OCT_TRY(check_vec(c, 2, 1, c->in[0]->dtype));
    OCT_TRY(check_vec(c, 4, p.m, OCT_UNDEFINED));
    OCT_TRY(check_vec(c, 5, p.m, c->in[3]->dtype));
    OCT_TRY(check_vec(c, 6, 1, OCT_UNDEFINED));
    if (!oct_in(c, 1) || !oct_in(c, 4) || !oct_in(c, 6))
        return oct_op_fail(c, OCT_E_INVALID_ARG, "x_scale, w_scale and y_scale are required");
    const oct_tensor *b = oct_in(c, 8);
    if (b && (b->dtype != OCT_INT32 || b->ndim != 1 || b->dims[0] != p.m))
        return oct_op_fail(c, OCT_E_SHAPE, "B must be int32 1-D of %lld", (long long)p.m);
    oct_dtype yt = qconv_out_dtype(c);
    if (!is_q8(yt)) return oct_op_fail(c, OCT_E_UNSUPPORTED, "output dtype %s", oct_dtype_name(yt));
    return set_output(c, &p, yt);
}

static oct_status qconv_run(oct_opctx *c) {
    oct_conv_params p;
    OCT_TRY(oct_qconv_params_get(c, 0, 3, &p));
    oct_tensor *y = c->out[0];
    if (!y) return OCT_OK;
    int64_t pout = oct_shape_numel(p.w.nsp, p.w.out);
    double xs, xz, ys, yz;
    double *ws = malloc((size_t)p.m * sizeof *ws + 1), *wz = malloc((size_t)p.m * sizeof *wz + 1);
    int32_t *wzi = malloc((size_t)p.m * sizeof *wzi + 1);
    int32_t *acc = malloc((size_t)(p.n * p.m * pout) * sizeof *acc + 1);
    oct_status st = OCT_E_NOMEM;
    if (!ws || !wz || !wzi || !acc) {
        oct_op_fail(c, st, "out of memory");
        goto done;
    }
    if ((st = read_vec(c, 1, 1, OCT_UNDEFINED, 1, &xs)) ||
        (st = read_vec(c, 2, 1, c->in[0]->dtype, 0, &xz)) ||
        (st = read_vec(c, 4, p.m, OCT_UNDEFINED, 1, ws)) ||
        (st = read_vec(c, 5, p.m, c->in[3]->dtype, 0, wz)) ||
        (st = read_vec(c, 6, 1, OCT_UNDEFINED, 1, &ys)) ||
        (st = read_vec(c, 7, 1, y->dtype, 0, &yz)))
        goto done;
    for (int64_t m = 0; m < p.m; m++)
        wzi[m] = (int32_t)wz[m];
    if ((st = oct_ref_conv_integer(&p, c->in[0], (int32_t)xz, c->in[3], wzi, acc))) {
        oct_op_fail(c, st, "out of memory");
        goto done;
    }
    const oct_tensor *b = oct_in(c, 8);
    int32_t lo, hi;
    oct_q_range(y->dtype, &lo, &hi);
    for (int64_t m = 0; m < p.m; m++) {
        /* ONNX Runtime's order: (x_scale * w_scale) / y_scale, in float */
        float scale = oct_q_conv_scale(xs, ws[m], ys);
        int32_t bias = b ? ((const int32_t *)b->data)[m] : 0;
        for (int64_t n = 0; n < p.n; n++) {
            int64_t base = (n * p.m + m) * pout;
            for (int64_t t = 0; t < pout; t++)
                oct_q_set(y->data, y->dtype, base + t,
                          oct_q_requant((int32_t)((uint32_t)acc[base + t] + (uint32_t)bias), scale,
                                        (int32_t)yz, lo, hi));
        }
    }
done:
    free(ws);
    free(wz);
    free(wzi);
    free(acc);
    return st;
}

const oct_op_def oct_op_ConvInteger = {"", "ConvInteger", convint_infer, convint_run, 0};
const oct_op_def oct_op_QLinearConv = {"", "QLinearConv", qconv_infer, qconv_run, 0};
