/* QuantizeLinear (opsets 10, 13, 19, 21), DequantizeLinear (same) and
 * DynamicQuantizeLinear (11). Per-tensor, per-axis (13+) and blocked (21)
 * scales; zero points default to 0. float8 and int4 types are not
 * supported. */
#include <stdlib.h>

#include "kernels/ref/ref_quant.h"

/* Scale and zero point geometry of input 0 from inputs 1 and 2. */
static oct_status qaxis_get(const oct_opctx *c, oct_qaxis *q) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0], *s = c->in[1], *z = oct_in(c, 2);
    if (!oct_nn_is_real(s->dtype))
        return oct_op_fail(c, OCT_E_SHAPE, "scale has dtype %s, expected a float type",
                           oct_dtype_name(s->dtype));
    int64_t ns = oct_numel(s);
    int64_t block = c->opset >= 21 ? oct_attr_int(c->node, "block_size", 0) : 0;
    if (block < 0)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "block_size %lld < 0", (long long)block);
    if (z && (oct_numel(z) != ns || z->ndim != s->ndim))
        return oct_op_fail(c, OCT_E_SHAPE, "zero point and scale shapes differ");
    q->block = 0;
    q->n_scales = ns;
    if (ns == 1 && block == 0) {
        q->outer = oct_numel(x);
        q->axis_len = q->inner = 1;
        return OCT_OK;
    }
    if (c->opset < 13 || x->ndim == 0)
        return oct_op_fail(c, OCT_E_SHAPE, "scale must be a scalar (has %lld elements)",
                           (long long)ns);
    int axis;
    OCT_TRY(oct_op_axis(c, oct_attr_int(c->node, "axis", 1), x->ndim, &axis));
    size_t outer, len, inner;
    if (oct_axis_split(x->dims, x->ndim, axis, &outer, &len, &inner))
        return oct_op_fail(c, OCT_E_SHAPE, "bad input shape");
    q->outer = (int64_t)outer;
    q->axis_len = (int64_t)len;
    q->inner = (int64_t)inner;
    if (block == 0) {
        if (s->ndim != 1 || s->dims[0] != q->axis_len)
            return oct_op_fail(c, OCT_E_SHAPE, "scale must be a scalar or 1-D of %lld (axis %d)",
                               (long long)q->axis_len, axis);
        return OCT_OK;
    }
    q->block = block;
    if (s->ndim != x->ndim)
        return oct_op_fail(c, OCT_E_SHAPE, "blocked scale must have the input's rank %d", x->ndim);
    for (int d = 0; d < x->ndim; d++) {
        int64_t want = d == axis ? (x->dims[d] + block - 1) / block : x->dims[d];
        if (s->dims[d] != want)
            return oct_op_fail(c, OCT_E_SHAPE, "blocked scale has %lld on axis %d, expected %lld",
                               (long long)s->dims[d], d, (long long)want);
    }
    return OCT_OK;
}

/* Scales as float and zero points as int32 (zp NULL when absent). */
static oct_status load_params(const oct_opctx *c, const oct_qaxis *q, float **scale, int32_t **zp) {
    const oct_tensor *s = c->in[1], *z = oct_in(c, 2);
    *scale = malloc((size_t)q->n_scales * sizeof **scale + 1);
    *zp = z ? malloc((size_t)q->n_scales * sizeof **zp + 1) : NULL;
    if (!*scale || (z && !*zp)) {
        free(*scale);
        free(*zp);
        return oct_op_fail(c, OCT_E_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < q->n_scales; i++) {
        (*scale)[i] = (float)oct_get_f64(s, i);
        if (z) (*zp)[i] = (int32_t)oct_get_i64(z, i);
    }
    return OCT_OK;
}

static int is_quant_int(oct_dtype dt) {
    int32_t lo, hi;
    return dt != OCT_INT32 && oct_q_range(dt, &lo, &hi);
}

static oct_status quantize_infer(oct_opctx *c) {
    oct_qaxis q;
    OCT_TRY(qaxis_get(c, &q));
    const oct_tensor *x = c->in[0], *z = oct_in(c, 2);
    if (!oct_nn_is_real(x->dtype) && x->dtype != OCT_INT32)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "input has dtype %s; float types or int32",
                           oct_dtype_name(x->dtype));
    oct_dtype yt = OCT_UINT8;
    if (z)
        yt = z->dtype;
    else if (c->opset >= 21 && oct_attr_int(c->node, "output_dtype", 0))
        yt = (oct_dtype)oct_attr_int(c->node, "output_dtype", 0);
    if (!is_quant_int(yt))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "output type %d; only uint8, int8, uint16, int16",
                           (int)yt);
    if (c->out[0]) oct_tensor_set_shape(c->out[0], yt, x->ndim, x->dims);
    return OCT_OK;
}

static oct_status quantize_run(oct_opctx *c) {
    oct_qaxis q;
    OCT_TRY(qaxis_get(c, &q));
    if (!c->out[0]) return OCT_OK;
    float *scale;
    int32_t *zp;
    OCT_TRY(load_params(c, &q, &scale, &zp));
    oct_status st = oct_ref_quantize_linear(c->in[0], scale, zp, &q, c->out[0]);
    free(scale);
    free(zp);
    return st ? oct_op_fail(c, st, "unsupported dtypes") : OCT_OK;
}

static oct_status dequantize_infer(oct_opctx *c) {
    oct_qaxis q;
    OCT_TRY(qaxis_get(c, &q));
    const oct_tensor *x = c->in[0], *z = oct_in(c, 2);
    int32_t lo, hi;
    if (!oct_q_range(x->dtype, &lo, &hi))
        return oct_op_fail(c, OCT_E_UNSUPPORTED,
                           "input has dtype %s; only 8, 16 and 32-bit integers",
                           oct_dtype_name(x->dtype));
    if (z && z->dtype != x->dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "zero point has dtype %s, input %s",
                           oct_dtype_name(z->dtype), oct_dtype_name(x->dtype));
    /* the output takes the scale's type from opset 19 */
    oct_dtype yt = c->opset >= 19 ? c->in[1]->dtype : OCT_FLOAT;
    if (oct_attr_int(c->node, "output_dtype", 0))
        yt = (oct_dtype)oct_attr_int(c->node, "output_dtype", 0);
    if (!oct_nn_is_real(yt))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "output type %d is not a float type", (int)yt);
    if (c->out[0]) oct_tensor_set_shape(c->out[0], yt, x->ndim, x->dims);
    return OCT_OK;
}

static oct_status dequantize_run(oct_opctx *c) {
    oct_qaxis q;
    OCT_TRY(qaxis_get(c, &q));
    if (!c->out[0]) return OCT_OK;
    float *scale;
    int32_t *zp;
    OCT_TRY(load_params(c, &q, &scale, &zp));
    oct_status st = oct_ref_dequantize_linear(c->in[0], scale, zp, &q, c->out[0]);
    free(scale);
    free(zp);
    return st ? oct_op_fail(c, st, "unsupported dtypes") : OCT_OK;
}

static oct_status dynamic_infer(oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_FLOAT));
    const oct_tensor *x = c->in[0];
    if (c->out[0]) oct_tensor_set_shape(c->out[0], OCT_UINT8, x->ndim, x->dims);
    if (oct_out(c, 1)) oct_tensor_set_shape(c->out[1], OCT_FLOAT, 0, NULL);
    if (oct_out(c, 2)) oct_tensor_set_shape(c->out[2], OCT_UINT8, 0, NULL);
    return OCT_OK;
}

static oct_status dynamic_run(oct_opctx *c) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_FLOAT));
    const oct_tensor *x = c->in[0];
    int64_t n = oct_numel(x);
    oct_tensor *y = c->out[0];
    uint8_t *yv = y ? y->data : malloc((size_t)n + 1);
    if (!yv) return oct_op_fail(c, OCT_E_NOMEM, "out of memory");
    float scale;
    uint8_t zp;
    oct_ref_dynamic_quantize_linear(x->data, n, yv, &scale, &zp);
    if (!y) free(yv);
    if (oct_out(c, 1)) *(float *)c->out[1]->data = scale;
    if (oct_out(c, 2)) *(uint8_t *)c->out[2]->data = zp;
    return OCT_OK;
}

const oct_op_def oct_op_QuantizeLinear = {"", "QuantizeLinear", quantize_infer, quantize_run, 0};
const oct_op_def oct_op_DequantizeLinear = {"", "DequantizeLinear", dequantize_infer,
                                            dequantize_run, 0};
const oct_op_def oct_op_DynamicQuantizeLinear = {"", "DynamicQuantizeLinear", dynamic_infer,
                                                 dynamic_run, 0};
