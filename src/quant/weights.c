#include "quant/weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"

int oct_weight_input(const char *op_type) {
    if (!op_type) return -1;
    if (!strcmp(op_type, "Conv") || !strcmp(op_type, "ConvTranspose") || !strcmp(op_type, "MatMul") ||
        !strcmp(op_type, "Gemm"))
        return 1;
    return -1;
}

int oct_weight_channel_axis(const char *op_type, int ndim, int64_t group, int64_t trans_b,
                            oct_weight_granularity granularity) {
    if (granularity == OCT_WEIGHTS_PER_TENSOR || !op_type) return -1;
    if (!strcmp(op_type, "Conv")) return ndim >= 3 ? 0 : -1;
    if (!strcmp(op_type, "ConvTranspose")) return ndim >= 3 && group == 1 ? 1 : -1;
    if (!strcmp(op_type, "MatMul")) return ndim >= 2 ? ndim - 1 : -1;
    if (!strcmp(op_type, "Gemm")) return ndim == 2 ? (trans_b ? 0 : 1) : -1;
    return -1;
}

/* [outer, channels, inner] view; per tensor is one channel of everything. */
static int split(int ndim, const int64_t *dims, int axis, size_t *outer, size_t *ch, size_t *inner) {
    if (ndim < 0 || ndim > OCT_MAX_DIMS) return -1;
    if (axis < 0) {
        size_t n = 1;
        for (int d = 0; d < ndim; d++) {
            if (dims[d] < 0) return -1;
            n *= (size_t)dims[d];
        }
        *outer = 1;
        *ch = 1;
        *inner = n;
        return 0;
    }
    if (axis >= ndim) return -1;
    return oct_axis_split(dims, ndim, axis, outer, ch, inner);
}

size_t oct_weight_n_scales(int ndim, const int64_t *dims, int axis) {
    size_t o, c, i;
    return split(ndim, dims, axis, &o, &c, &i) ? 0 : c;
}

static oct_status check_bits(int bits, oct_error *err) {
    if (oct_weight_bits_valid(bits)) return OCT_OK;
    return oct_fail(err, OCT_E_INVALID_ARG, "weight quantization: %d bits; 4, 6, 7 or 8 are supported",
                    bits);
}

oct_status oct_weight_quantize_bits(const float *w, int ndim, const int64_t *dims, int axis,
                                    int bits, int8_t *q, float *scales, oct_error *err) {
    OCT_TRY(check_bits(bits, err));
    size_t outer, ch, inner;
    if (split(ndim, dims, axis, &outer, &ch, &inner))
        return oct_fail(err, OCT_E_INVALID_ARG, "weight quantization: axis %d does not fit a rank-%d weight",
                        axis, ndim);
    if (ch == 0) return OCT_OK;
    float *amax = malloc(ch * sizeof *amax);
    if (!amax) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    int32_t qmax = oct_qmax_bits(bits);
    oct_absmax_channels(w, outer, ch, inner, amax);
    for (size_t c = 0; c < ch; c++)
        scales[c] = oct_scale_sym(oct_amax_usable(amax[c]), qmax);
    free(amax);
    if (q) oct_quantize_sym_channels(w, q, outer, ch, inner, scales, qmax);
    return OCT_OK;
}

oct_status oct_weight_fake_quant_bits(float *w, int ndim, const int64_t *dims, int axis, int bits,
                                      oct_error *err) {
    OCT_TRY(check_bits(bits, err));
    size_t n = oct_weight_n_scales(ndim, dims, axis);
    if (!n) {
        size_t o, c, i;
        if (split(ndim, dims, axis, &o, &c, &i))
            return oct_fail(err, OCT_E_INVALID_ARG,
                            "weight quantization: axis %d does not fit a rank-%d weight", axis, ndim);
        return OCT_OK; /* empty */
    }
    float *scales = malloc(n * sizeof *scales);
    if (!scales) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    oct_status st = oct_weight_quantize_bits(w, ndim, dims, axis, bits, NULL, scales, err);
    if (!st) {
        size_t outer, ch, inner;
        split(ndim, dims, axis, &outer, &ch, &inner);
        oct_fake_quant_sym_channels(w, outer, ch, inner, scales, oct_qmax_bits(bits));
    }
    free(scales);
    return st;
}

oct_status oct_weight_quantize_s8(const float *w, int ndim, const int64_t *dims, int axis,
                                  int8_t *q, float *scales, oct_error *err) {
    return oct_weight_quantize_bits(w, ndim, dims, axis, 8, q, scales, err);
}

oct_status oct_weight_fake_quant_s8(float *w, int ndim, const int64_t *dims, int axis,
                                    oct_error *err) {
    return oct_weight_fake_quant_bits(w, ndim, dims, axis, 8, err);
}
