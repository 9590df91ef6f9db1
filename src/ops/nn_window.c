/* Sliding-window geometry shared by Conv, ConvTranspose and the pools:
 * strides, dilations, pads and auto_pad, and the output size they imply. */
#include <string.h>

#include "kernels/ref/ref_nn.h"

/* Bounds that keep every size computation below far from int64 overflow. */
#define OCT_NN_MAX_STEP ((int64_t)1 << 31)
#define OCT_NN_MAX_PAD ((int64_t)1 << 40)

static oct_status read_counted(const oct_opctx *c, const char *name, int n, int64_t lo,
                               int64_t hi, int64_t def, int64_t *v) {
    const int64_t *a;
    int64_t k = oct_attr_ints(c->node, name, &a);
    for (int i = 0; i < n; i++) v[i] = def;
    if (k < 0) return OCT_OK;
    if (k != n)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute %s has %lld values, expected %d", name,
                           (long long)k, n);
    for (int i = 0; i < n; i++) {
        if (a[i] < lo || a[i] > hi)
            return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute %s[%d] = %lld is out of range", name,
                               i, (long long)a[i]);
        v[i] = a[i];
    }
    return OCT_OK;
}

oct_status oct_nn_window_attrs(const oct_opctx *c, int nsp, oct_nn_window *w,
                               oct_nn_autopad *ap) {
    if (nsp < 1 || nsp > OCT_MAX_DIMS - 2)
        return oct_op_fail(c, OCT_E_SHAPE, "%d spatial axes are not supported", nsp);
    w->nsp = nsp;
    OCT_TRY(read_counted(c, "strides", nsp, 1, OCT_NN_MAX_STEP, 1, w->stride));
    OCT_TRY(read_counted(c, "dilations", nsp, 1, OCT_NN_MAX_STEP, 1, w->dil));
    const char *s = oct_attr_str(c->node, "auto_pad", "NOTSET");
    if (!strcmp(s, "NOTSET") || !*s)
        *ap = OCT_AUTOPAD_NOTSET;
    else if (!strcmp(s, "SAME_UPPER"))
        *ap = OCT_AUTOPAD_SAME_UPPER;
    else if (!strcmp(s, "SAME_LOWER"))
        *ap = OCT_AUTOPAD_SAME_LOWER;
    else if (!strcmp(s, "VALID"))
        *ap = OCT_AUTOPAD_VALID;
    else
        return oct_op_fail(c, OCT_E_INVALID_ARG, "unknown auto_pad '%s'", s);
    int64_t pads[2 * OCT_MAX_DIMS];
    OCT_TRY(read_counted(c, "pads", 2 * nsp, 0, OCT_NN_MAX_PAD, 0, pads));
    for (int i = 0; i < nsp; i++) {
        /* auto_pad other than NOTSET overrides explicit pads */
        w->pad_b[i] = *ap == OCT_AUTOPAD_NOTSET ? pads[i] : 0;
        w->pad_e[i] = *ap == OCT_AUTOPAD_NOTSET ? pads[nsp + i] : 0;
    }
    return OCT_OK;
}

oct_status oct_nn_window_params(const oct_opctx *c, int nsp, const int64_t *in,
                                const int64_t *kernel, int ceil_mode, oct_nn_window *w) {
    oct_nn_autopad ap;
    OCT_TRY(oct_nn_window_attrs(c, nsp, w, &ap));
    for (int i = 0; i < nsp; i++) {
        if (kernel[i] < 1 || kernel[i] > OCT_NN_MAX_STEP)
            return oct_op_fail(c, OCT_E_INVALID_ARG, "kernel size %lld on spatial axis %d",
                               (long long)kernel[i], i);
        int64_t s = w->stride[i], dk = (kernel[i] - 1) * w->dil[i] + 1;
        w->in[i] = in[i];
        w->kernel[i] = kernel[i];
        if (ap == OCT_AUTOPAD_SAME_UPPER || ap == OCT_AUTOPAD_SAME_LOWER) {
            int64_t out = (in[i] + s - 1) / s;
            int64_t total = (out - 1) * s + dk - in[i];
            if (total < 0) total = 0;
            /* SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the start */
            w->pad_b[i] = ap == OCT_AUTOPAD_SAME_UPPER ? total / 2 : total - total / 2;
            w->pad_e[i] = total - w->pad_b[i];
            w->out[i] = out;
            continue;
        }
        int64_t span = in[i] + w->pad_b[i] + w->pad_e[i] - dk;
        if (span < 0)
            return oct_op_fail(c, OCT_E_SHAPE,
                               "spatial axis %d: window of %lld (kernel %lld, dilation %lld) "
                               "exceeds the padded input of %lld",
                               i, (long long)dk, (long long)kernel[i], (long long)w->dil[i],
                               (long long)(in[i] + w->pad_b[i] + w->pad_e[i]));
        int64_t out = span / s + 1;
        if (ceil_mode && ap == OCT_AUTOPAD_NOTSET) {
            out = (span + s - 1) / s + 1;
            /* as PyTorch and ONNX Runtime: the last window must start inside
             * the input or the leading padding */
            if ((out - 1) * s >= in[i] + w->pad_b[i]) out--;
        }
        w->out[i] = out;
    }
    return OCT_OK;
}
