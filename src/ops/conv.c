/* Conv and ConvTranspose: N-D (transposed) convolution with groups,
 * dilations, strides, pads / auto_pad and an optional bias; kernel_shape
 * comes from the weights. */
#include <stdlib.h>

#include "kernels/ref/ref_nn.h"

/* Checks shared by Conv and ConvTranspose: X [N, C, D...], W of the same
 * rank and real dtype, B 1-D of `bias_len`. */
static oct_status check_conv_inputs(const oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0], *w = c->in[1], *b = oct_in(c, 2);
    if (!oct_nn_is_real(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "input X has dtype %s; only float dtypes",
                           oct_dtype_name(x->dtype));
    if (w->dtype != x->dtype || (b && b->dtype != x->dtype))
        return oct_op_fail(c, OCT_E_SHAPE, "X, W and B must share one dtype");
    if (x->ndim < 3)
        return oct_op_fail(c, OCT_E_SHAPE, "input X has rank %d, expected N x C x spatial", x->ndim);
    if (w->ndim != x->ndim)
        return oct_op_fail(c, OCT_E_SHAPE, "W has rank %d, X has rank %d", w->ndim, x->ndim);
    return OCT_OK;
}

/* kernel_shape, when given, must agree with the weights. */
static oct_status check_kernel_shape(const oct_opctx *c, int nsp, const int64_t *k) {
    const int64_t *ks;
    int64_t n = oct_attr_ints(c->node, "kernel_shape", &ks);
    if (n < 0) return OCT_OK;
    if (n != nsp)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "kernel_shape has %lld values, expected %d",
                           (long long)n, nsp);
    for (int i = 0; i < nsp; i++)
        if (ks[i] != k[i])
            return oct_op_fail(c, OCT_E_SHAPE, "kernel_shape[%d] = %lld but W has %lld", i,
                               (long long)ks[i], (long long)k[i]);
    return OCT_OK;
}

oct_status oct_conv_params_get(const oct_opctx *c, oct_conv_params *p) {
    OCT_TRY(check_conv_inputs(c));
    const oct_tensor *x = c->in[0], *w = c->in[1], *b = oct_in(c, 2);
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
        return oct_op_fail(c, OCT_E_SHAPE, "W has %lld input channels per group, X has %lld / %lld",
                           (long long)w->dims[1], (long long)p->c, (long long)p->group);
    if (b && (b->ndim != 1 || b->dims[0] != p->m))
        return oct_op_fail(c, OCT_E_SHAPE, "B must be 1-D of %lld (the output channels)",
                           (long long)p->m);
    OCT_TRY(check_kernel_shape(c, nsp, w->dims + 2));
    return oct_nn_window_params(c, nsp, x->dims + 2, w->dims + 2, 0, &p->w);
}

static oct_status conv_infer(oct_opctx *c) {
    oct_conv_params p;
    OCT_TRY(oct_conv_params_get(c, &p));
    int64_t dims[OCT_MAX_DIMS] = {p.n, p.m};
    for (int i = 0; i < p.w.nsp; i++) dims[2 + i] = p.w.out[i];
    if (c->out[0]) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, p.w.nsp + 2, dims);
    return OCT_OK;
}

/* Float32 tensors are used in place; other dtypes are staged. */
static const float *as_f32(const oct_tensor *t, float **tmp) {
    *tmp = NULL;
    if (!t) return NULL;
    if (t->dtype == OCT_FLOAT) return t->data;
    return *tmp = oct_nn_load_f32(t);
}

static oct_status conv_run_common(oct_opctx *c, int transpose) {
    oct_conv_params p;
    OCT_TRY(transpose ? oct_conv_transpose_params_get(c, &p) : oct_conv_params_get(c, &p));
    oct_tensor *y = c->out[0];
    if (!y || oct_numel(y) == 0) return OCT_OK;
    const oct_tensor *b = oct_in(c, 2);
    float *tx, *tw, *tb = NULL, *ty = NULL;
    const float *x = as_f32(c->in[0], &tx), *w = as_f32(c->in[1], &tw), *bb = as_f32(b, &tb);
    float *yv = y->dtype == OCT_FLOAT ? y->data : (ty = malloc((size_t)oct_numel(y) * sizeof(float) + 1));
    oct_status st = OCT_E_NOMEM;
    if (x && w && (!b || bb) && yv) {
        if (transpose) {
            oct_ref_conv_transpose_f32(&p, x, w, bb, yv);
            st = OCT_OK;
        } else {
            st = oct_ref_conv_f32(&p, x, w, bb, yv);
        }
    }
    if (st == OCT_OK && ty) oct_nn_store_f32(y, ty);
    free(tx);
    free(tw);
    free(tb);
    free(ty);
    return st ? oct_op_fail(c, st, "out of memory") : OCT_OK;
}

static oct_status conv_run(oct_opctx *c) { return conv_run_common(c, 0); }

/* ConvTranspose: W is [C, M/group, k...]. Output size per axis:
 * stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pads, or
 * output_shape / in * stride (SAME_*) with the pads derived from it. */
oct_status oct_conv_transpose_params_get(const oct_opctx *c, oct_conv_params *p) {
    OCT_TRY(check_conv_inputs(c));
    const oct_tensor *x = c->in[0], *w = c->in[1], *b = oct_in(c, 2);
    int nsp = x->ndim - 2;
    p->n = x->dims[0];
    p->c = x->dims[1];
    p->group = oct_attr_int(c->node, "group", 1);
    if (p->group < 1 || p->group > p->c || p->c % p->group)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "group %lld must divide the %lld input channels",
                           (long long)p->group, (long long)p->c);
    if (w->dims[0] != p->c)
        return oct_op_fail(c, OCT_E_SHAPE, "W has %lld input channels, X has %lld",
                           (long long)w->dims[0], (long long)p->c);
    p->m = w->dims[1] * p->group;
    if (b && (b->ndim != 1 || b->dims[0] != p->m))
        return oct_op_fail(c, OCT_E_SHAPE, "B must be 1-D of %lld (the output channels)",
                           (long long)p->m);
    OCT_TRY(check_kernel_shape(c, nsp, w->dims + 2));
    oct_nn_window *win = &p->w;
    oct_nn_autopad ap;
    OCT_TRY(oct_nn_window_attrs(c, nsp, win, &ap));
    const int64_t *opad, *oshape;
    int64_t nop = oct_attr_ints(c->node, "output_padding", &opad);
    int64_t nos = oct_attr_ints(c->node, "output_shape", &oshape);
    if (nop >= 0 && nop != nsp)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "output_padding has %lld values, expected %d",
                           (long long)nop, nsp);
    if (nos >= 0 && nos != nsp && nos != nsp + 2)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "output_shape has %lld values, expected %d",
                           (long long)nos, nsp);
    for (int i = 0; i < nsp; i++) {
        int64_t k = w->dims[2 + i], op = nop > 0 ? opad[i] : 0;
        if (k < 1 || op < 0 || op > ((int64_t)1 << 31))
            return oct_op_fail(c, OCT_E_INVALID_ARG, "spatial axis %d: kernel %lld, output_padding %lld",
                               i, (long long)k, (long long)op);
        win->in[i] = x->dims[2 + i];
        win->kernel[i] = k;
        int64_t full = win->stride[i] * (win->in[i] - 1) + op + (k - 1) * win->dil[i] + 1;
        int64_t out = -1;
        if (nos > 0)
            out = oshape[nos - nsp + i];
        else if (ap == OCT_AUTOPAD_SAME_UPPER || ap == OCT_AUTOPAD_SAME_LOWER)
            out = win->in[i] * win->stride[i];
        if (out >= 0) {
            /* A requested size beyond the full output leaves zeros at the end. */
            int64_t total = full - out > 0 ? full - out : 0;
            win->pad_b[i] = ap == OCT_AUTOPAD_SAME_UPPER ? total / 2 : total - total / 2;
            win->pad_e[i] = full - out - win->pad_b[i];
        } else {
            out = full - win->pad_b[i] - win->pad_e[i];
        }
        if (out < 0 || out > ((int64_t)1 << 40))
            return oct_op_fail(c, OCT_E_SHAPE, "spatial axis %d: output size %lld", i, (long long)out);
        win->out[i] = out;
    }
    return OCT_OK;
}

static oct_status conv_transpose_infer(oct_opctx *c) {
    oct_conv_params p;
    OCT_TRY(oct_conv_transpose_params_get(c, &p));
    int64_t dims[OCT_MAX_DIMS] = {p.n, p.m};
    for (int i = 0; i < p.w.nsp; i++) dims[2 + i] = p.w.out[i];
    if (c->out[0]) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, p.w.nsp + 2, dims);
    return OCT_OK;
}

static oct_status conv_transpose_run(oct_opctx *c) { return conv_run_common(c, 1); }

const oct_op_def oct_op_Conv = {"", "Conv", conv_infer, conv_run, 0};
const oct_op_def oct_op_ConvTranspose = {"", "ConvTranspose", conv_transpose_infer,
                                         conv_transpose_run, 0};
