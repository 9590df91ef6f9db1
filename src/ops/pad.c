/* Pad: modes constant, reflect, edge, wrap. Before opset 11 the pads and the
 * constant are attributes (`pads`, `value`); from 11 they are inputs (pads,
 * constant_value), and from 18 an `axes` input selects the padded axes.
 * Negative pads crop. Any fixed-size dtype. */
#include <string.h>

#include "kernels/ref/ref_nn.h"

#define PAD_MAX ((int64_t)1 << 40)

static oct_status pad_mode(const oct_opctx *c, oct_pad_mode *m) {
    const char *s = oct_attr_str(c->node, "mode", "constant");
    if (!strcmp(s, "constant"))
        *m = OCT_PAD_CONSTANT;
    else if (!strcmp(s, "reflect"))
        *m = OCT_PAD_REFLECT;
    else if (!strcmp(s, "edge"))
        *m = OCT_PAD_EDGE;
    else if (!strcmp(s, "wrap"))
        *m = OCT_PAD_WRAP;
    else
        return oct_op_fail(c, OCT_E_INVALID_ARG, "unknown mode '%s'", s);
    return OCT_OK;
}

/* Fills pads[2 * rank] (begin..., end...) from the attribute or the inputs. */
static oct_status pad_amounts(const oct_opctx *c, int r, int64_t *pads) {
    int64_t raw[2 * OCT_MAX_DIMS], n;
    if (c->opset < 11) {
        const int64_t *a;
        n = oct_attr_ints(c->node, "pads", &a);
        if (n < 0) n = oct_attr_ints(c->node, "paddings", &a); /* opset 1 */
        if (n != 2 * r)
            return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute pads has %lld values, expected %d",
                               (long long)n, 2 * r);
        for (int i = 0; i < 2 * r; i++) pads[i] = a[i];
        return OCT_OK;
    }
    OCT_TRY(oct_op_need_value(c, 1));
    const oct_tensor *axes_t = c->opset >= 18 ? oct_in(c, 3) : NULL;
    int axes[OCT_MAX_DIMS], na = r;
    for (int i = 0; i < r; i++) axes[i] = i;
    if (axes_t) {
        OCT_TRY(oct_op_need_value(c, 3));
        int64_t av[OCT_MAX_DIMS];
        int64_t k = oct_read_ints(axes_t, av, OCT_MAX_DIMS);
        if (k < 0 || k > r)
            return oct_op_fail(c, OCT_E_INVALID_ARG, "axes must be int32/int64 with at most %d values", r);
        na = (int)k;
        for (int i = 0; i < na; i++) {
            OCT_TRY(oct_op_axis(c, av[i], r, &axes[i]));
            for (int j = 0; j < i; j++)
                if (axes[j] == axes[i])
                    return oct_op_fail(c, OCT_E_INVALID_ARG, "axis %d repeats in axes", axes[i]);
        }
    }
    n = oct_read_ints(c->in[1], raw, 2 * OCT_MAX_DIMS);
    if (n != 2 * na)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "input pads must be int64 with %d values", 2 * na);
    for (int i = 0; i < 2 * r; i++) pads[i] = 0;
    for (int i = 0; i < na; i++) {
        pads[axes[i]] = raw[i];
        pads[r + axes[i]] = raw[na + i];
    }
    return OCT_OK;
}

static oct_status pad_check(const oct_opctx *c, int64_t *pads, oct_pad_mode *mode, int64_t *dims) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (oct_dtype_size(x->dtype) == 0 || x->dtype == OCT_STRING)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s", oct_dtype_name(x->dtype));
    OCT_TRY(pad_mode(c, mode));
    int r = x->ndim;
    OCT_TRY(pad_amounts(c, r, pads));
    for (int d = 0; d < r; d++) {
        int64_t pb = pads[d], pe = pads[r + d];
        if (pb < -PAD_MAX || pb > PAD_MAX || pe < -PAD_MAX || pe > PAD_MAX)
            return oct_op_fail(c, OCT_E_INVALID_ARG, "axis %d: pads %lld, %lld out of range", d,
                               (long long)pb, (long long)pe);
        dims[d] = x->dims[d] + pb + pe;
        if (dims[d] < 0)
            return oct_op_fail(c, OCT_E_SHAPE, "axis %d: pads %lld, %lld crop more than its %lld",
                               d, (long long)pb, (long long)pe, (long long)x->dims[d]);
        int64_t kept = x->dims[d] - (pb < 0 ? -pb : 0) - (pe < 0 ? -pe : 0);
        if (*mode != OCT_PAD_CONSTANT && kept <= 0 && dims[d] > 0)
            return oct_op_fail(c, OCT_E_SHAPE, "axis %d: nothing left to %s from", d,
                               *mode == OCT_PAD_EDGE ? "extend" : "reflect");
    }
    return OCT_OK;
}

static oct_status pad_infer(oct_opctx *c) {
    int64_t pads[2 * OCT_MAX_DIMS], dims[OCT_MAX_DIMS];
    oct_pad_mode mode;
    OCT_TRY(pad_check(c, pads, &mode, dims));
    if (c->out[0]) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[0]->ndim, dims);
    return OCT_OK;
}

static oct_status pad_run(oct_opctx *c) {
    int64_t pads[2 * OCT_MAX_DIMS], dims[OCT_MAX_DIMS];
    oct_pad_mode mode;
    OCT_TRY(pad_check(c, pads, &mode, dims));
    oct_tensor *y = c->out[0];
    if (!y) return OCT_OK;
    /* the constant, as one element of y's dtype */
    unsigned char value[16] = {0};
    const oct_tensor *cv = c->opset >= 11 ? oct_in(c, 2) : NULL;
    if (c->opset < 11) {
        oct_tensor tmp = *y;
        tmp.data = value;
        oct_set_f64(&tmp, 0, oct_attr_float(c->node, "value", 0.0f));
    } else if (cv && oct_numel(cv) > 0) {
        if (cv->dtype != y->dtype)
            return oct_op_fail(c, OCT_E_SHAPE, "constant_value is %s, data is %s",
                               oct_dtype_name(cv->dtype), oct_dtype_name(y->dtype));
        memcpy(value, cv->data, oct_dtype_size(cv->dtype));
    }
    oct_status st = oct_ref_pad(c->in[0], pads, mode, value, y);
    return st ? oct_op_fail(c, st, "out of memory") : OCT_OK;
}

const oct_op_def oct_op_Pad = {"", "Pad", pad_infer, pad_run, 0};
