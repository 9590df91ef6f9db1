/* BatchNormalization (inference; opset 14+ training_mode too),
 * InstanceNormalization, LayerNormalization and LRN. All compute in double
 * and take float32/float64/float16/bfloat16. */
#include <stdlib.h>

#include "kernels/ref/ref_nn.h"

static oct_status need_real(const oct_opctx *c, int i, int required) {
    const oct_tensor *t = oct_in(c, i);
    if (!t) return required ? oct_op_fail(c, OCT_E_INVALID_ARG, "input %d is required", i) : OCT_OK;
    if (!oct_nn_is_real(t->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "input %d has dtype %s; only float dtypes", i,
                           oct_dtype_name(t->dtype));
    return OCT_OK;
}

/* Loads inputs 0..n-1 as doubles (NULL where absent). */
static oct_status load_all(const oct_opctx *c, int n, double **v) {
    for (int i = 0; i < n; i++) v[i] = NULL;
    for (int i = 0; i < n; i++)
        if (oct_in(c, i) && !(v[i] = oct_nn_load_f64(c->in[i]))) return OCT_E_NOMEM;
    return OCT_OK;
}

static void free_all(int n, double **v) {
    for (int i = 0; i < n; i++) free(v[i]);
}

static double *alloc_like(const oct_tensor *t) {
    int64_t n = t ? oct_numel(t) : 1;
    return malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
}

/* ---- BatchNormalization -------------------------------------------------- */

/* Per-channel parameters hold c values, or c * inner with spatial = 0
 * (opsets 7-8) where they are [C, D1, ...]. */
static oct_status bn_check(const oct_opctx *c, int *training, int64_t *pinner) {
    for (int i = 0; i < 5; i++) OCT_TRY(need_real(c, i, 1));
    const oct_tensor *x = c->in[0];
    if (x->ndim < 2) return oct_op_fail(c, OCT_E_SHAPE, "input X has rank %d, expected >= 2", x->ndim);
    int64_t ch = x->dims[1], inner = oct_shape_numel(x->ndim - 2, x->dims + 2);
    int64_t spatial = c->opset <= 8 ? oct_attr_int(c->node, "spatial", 1) : 1;
    *pinner = 1;
    if (!spatial && oct_numel(c->in[1]) == ch * inner && inner != 1) *pinner = inner;
    for (int i = 1; i < 5; i++)
        if (oct_numel(c->in[i]) != ch * *pinner)
            return oct_op_fail(c, OCT_E_SHAPE, "input %d has %lld values, expected %lld", i,
                               (long long)oct_numel(c->in[i]), (long long)(ch * *pinner));
    *training = c->opset >= 14 && oct_attr_int(c->node, "training_mode", 0) != 0;
    for (int o = 1; o < c->n_out; o++)
        if (c->out[o] && !*training)
            return oct_op_fail(c, OCT_E_UNSUPPORTED,
                               "output %d: training-mode statistics are not supported at opset %lld",
                               o, (long long)c->opset);
    if (*training && *pinner != 1)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "training mode with per-element statistics");
    return OCT_OK;
}

static oct_status bn_infer(oct_opctx *c) {
    int training;
    int64_t pinner;
    OCT_TRY(bn_check(c, &training, &pinner));
    const oct_tensor *x = c->in[0];
    if (c->out[0]) oct_tensor_set_shape(c->out[0], x->dtype, x->ndim, x->dims);
    for (int o = 1; o < c->n_out && o < 3; o++)
        if (c->out[o]) oct_tensor_set_shape(c->out[o], c->in[2 + o]->dtype, 1, x->dims + 1);
    return OCT_OK;
}

static oct_status bn_run(oct_opctx *c) {
    int training;
    int64_t pinner;
    OCT_TRY(bn_check(c, &training, &pinner));
    const oct_tensor *x = c->in[0];
    int64_t n = x->dims[0], ch = x->dims[1], inner = oct_shape_numel(x->ndim - 2, x->dims + 2);
    double *v[5], *y = alloc_like(x), *bm = alloc_like(c->in[3]), *bv = alloc_like(c->in[3]);
    oct_status st = load_all(c, 5, v);
    if (st || !y || !bm || !bv) {
        st = OCT_E_NOMEM;
    } else if (training) {
        /* normalize with the batch statistics; blend them into the running ones */
        double mom = oct_attr_float(c->node, "momentum", 0.9f);
        oct_ref_channel_moments(n, ch, inner, v[0], bm, bv);
        oct_ref_batchnorm(n, ch, inner, 1, v[0], v[1], v[2], bm, bv,
                          oct_attr_float(c->node, "epsilon", 1e-5f), y);
        for (int64_t i = 0; i < ch; i++) {
            v[3][i] = v[3][i] * mom + bm[i] * (1.0 - mom);
            v[4][i] = v[4][i] * mom + bv[i] * (1.0 - mom);
        }
        if (oct_out(c, 1)) oct_nn_store_f64(c->out[1], v[3]);
        if (oct_out(c, 2)) oct_nn_store_f64(c->out[2], v[4]);
    } else {
        oct_ref_batchnorm(n, ch, inner, pinner, v[0], v[1], v[2], v[3], v[4],
                          oct_attr_float(c->node, "epsilon", 1e-5f), y);
    }
    if (!st && c->out[0]) oct_nn_store_f64(c->out[0], y);
    free_all(5, v);
    free(y);
    free(bm);
    free(bv);
    return st ? oct_op_fail(c, st, "out of memory") : OCT_OK;
}

/* ---- InstanceNormalization ----------------------------------------------- */

static oct_status in_check(const oct_opctx *c) {
    for (int i = 0; i < 3; i++) OCT_TRY(need_real(c, i, 1));
    const oct_tensor *x = c->in[0];
    if (x->ndim < 3) return oct_op_fail(c, OCT_E_SHAPE, "input X has rank %d, expected >= 3", x->ndim);
    for (int i = 1; i < 3; i++)
        if (c->in[i]->ndim != 1 || c->in[i]->dims[0] != x->dims[1])
            return oct_op_fail(c, OCT_E_SHAPE, "input %d must be 1-D of %lld (the channels)", i,
                               (long long)x->dims[1]);
    return OCT_OK;
}

static oct_status in_infer(oct_opctx *c) {
    OCT_TRY(in_check(c));
    return oct_infer_same_as(c, 0);
}

static oct_status in_run(oct_opctx *c) {
    OCT_TRY(in_check(c));
    const oct_tensor *x = c->in[0];
    double *v[3], *y = alloc_like(x);
    oct_status st = load_all(c, 3, v);
    if (!st && y) {
        oct_ref_instancenorm(x->dims[0], x->dims[1], oct_shape_numel(x->ndim - 2, x->dims + 2), v[0],
                             v[1], v[2], oct_attr_float(c->node, "epsilon", 1e-5f), y);
        if (c->out[0]) oct_nn_store_f64(c->out[0], y);
    }
    free_all(3, v);
    free(y);
    return st || !y ? oct_op_fail(c, OCT_E_NOMEM, "out of memory") : OCT_OK;
}

/* ---- LayerNormalization -------------------------------------------------- */

/* Scale and B broadcast (numpy, right-aligned) to X.shape[axis:]. */
static oct_status ln_check(const oct_opctx *c, int *axis) {
    OCT_TRY(need_real(c, 0, 1));
    OCT_TRY(need_real(c, 1, 1));
    OCT_TRY(need_real(c, 2, 0));
    const oct_tensor *x = c->in[0];
    if (x->ndim < 1) return oct_op_fail(c, OCT_E_SHAPE, "input X is a scalar");
    OCT_TRY(oct_op_axis(c, oct_attr_int(c->node, "axis", -1), x->ndim, axis));
    for (int i = 1; i < 3; i++) {
        const oct_tensor *s = oct_in(c, i);
        if (!s) continue;
        if (s->ndim > x->ndim)
            return oct_op_fail(c, OCT_E_SHAPE, "input %d has rank %d > rank of X", i, s->ndim);
        for (int d = 0; d < s->ndim; d++) {
            int xd = x->ndim - s->ndim + d;
            int64_t sd = s->dims[d];
            if (sd != 1 && (xd < *axis || sd != x->dims[xd]))
                return oct_op_fail(c, OCT_E_SHAPE, "input %d does not broadcast to X[%d:]", i, *axis);
        }
    }
    int64_t st = oct_attr_int(c->node, "stash_type", 1);
    if (st != OCT_FLOAT && st != OCT_DOUBLE && st != OCT_FLOAT16 && st != OCT_BFLOAT16)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "stash_type %lld", (long long)st);
    return OCT_OK;
}

static oct_status ln_infer(oct_opctx *c) {
    int axis;
    OCT_TRY(ln_check(c, &axis));
    const oct_tensor *x = c->in[0];
    if (c->out[0]) oct_tensor_set_shape(c->out[0], x->dtype, x->ndim, x->dims);
    int64_t dims[OCT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) dims[d] = d < axis ? x->dims[d] : 1;
    oct_dtype st = (oct_dtype)oct_attr_int(c->node, "stash_type", 1);
    for (int o = 1; o < 3; o++)
        if (oct_out(c, o)) oct_tensor_set_shape(c->out[o], st, x->ndim, dims);
    return OCT_OK;
}

/* Expands s (broadcast to X.shape[axis:]) to inner values. */
static void ln_expand(const oct_tensor *x, int axis, const oct_tensor *s, const double *sv,
                      int64_t inner, double *out) {
    int nd = x->ndim - axis;
    for (int64_t i = 0; i < inner; i++) {
        int64_t r = i, off = 0, mul = 1;
        for (int d = nd - 1; d >= 0; d--) {
            int64_t coord = r % x->dims[axis + d];
            r /= x->dims[axis + d];
            int sd = s->ndim - (nd - d); /* the matching axis of s, if any */
            if (sd < 0) continue;
            if (s->dims[sd] != 1) off += coord * mul;
            mul *= s->dims[sd];
        }
        out[i] = sv[off];
    }
}

static oct_status ln_run(oct_opctx *c) {
    int axis;
    OCT_TRY(ln_check(c, &axis));
    const oct_tensor *x = c->in[0];
    int64_t outer = oct_shape_numel(axis, x->dims);
    int64_t inner = oct_shape_numel(x->ndim - axis, x->dims + axis);
    double *v[3], *y = alloc_like(x);
    double *sc = malloc((size_t)(inner + 1) * sizeof *sc), *bi = malloc((size_t)(inner + 1) * sizeof *bi);
    double *mo = malloc((size_t)(outer + 1) * sizeof *mo), *io = malloc((size_t)(outer + 1) * sizeof *io);
    oct_status st = load_all(c, 3, v);
    if (!st && y && sc && bi && mo && io) {
        ln_expand(x, axis, c->in[1], v[1], inner, sc);
        if (v[2]) ln_expand(x, axis, c->in[2], v[2], inner, bi);
        oct_ref_layernorm(outer, inner, v[0], sc, v[2] ? bi : NULL,
                          oct_attr_float(c->node, "epsilon", 1e-5f), y, mo, io);
        if (c->out[0]) oct_nn_store_f64(c->out[0], y);
        if (oct_out(c, 1)) oct_nn_store_f64(c->out[1], mo);
        if (oct_out(c, 2)) oct_nn_store_f64(c->out[2], io);
    } else {
        st = OCT_E_NOMEM;
    }
    free_all(3, v);
    free(y);
    free(sc);
    free(bi);
    free(mo);
    free(io);
    return st ? oct_op_fail(c, st, "out of memory") : OCT_OK;
}

/* ---- LRN ----------------------------------------------------------------- */

static oct_status lrn_check(const oct_opctx *c) {
    OCT_TRY(need_real(c, 0, 1));
    if (c->in[0]->ndim < 2)
        return oct_op_fail(c, OCT_E_SHAPE, "input X has rank %d, expected N x C x ...", c->in[0]->ndim);
    int64_t size = oct_attr_int(c->node, "size", 0);
    if (size < 1) return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute size %lld (>= 1 required)", (long long)size);
    return OCT_OK;
}

static oct_status lrn_infer(oct_opctx *c) {
    OCT_TRY(lrn_check(c));
    return oct_infer_same_as(c, 0);
}

static oct_status lrn_run(oct_opctx *c) {
    OCT_TRY(lrn_check(c));
    const oct_tensor *x = c->in[0];
    double *xv = oct_nn_load_f64(x), *y = alloc_like(x);
    if (xv && y) {
        oct_ref_lrn(x->dims[0], x->dims[1], oct_shape_numel(x->ndim - 2, x->dims + 2), xv,
                    oct_attr_int(c->node, "size", 1), oct_attr_float(c->node, "alpha", 1e-4f),
                    oct_attr_float(c->node, "beta", 0.75f), oct_attr_float(c->node, "bias", 1.0f), y);
        if (c->out[0]) oct_nn_store_f64(c->out[0], y);
    }
    int ok = xv && y;
    free(xv);
    free(y);
    return ok ? OCT_OK : oct_op_fail(c, OCT_E_NOMEM, "out of memory");
}

const oct_op_def oct_op_BatchNormalization = {"", "BatchNormalization", bn_infer, bn_run, 0};
const oct_op_def oct_op_InstanceNormalization = {"", "InstanceNormalization", in_infer, in_run, 0};
const oct_op_def oct_op_LayerNormalization = {"", "LayerNormalization", ln_infer, ln_run, 0};
const oct_op_def oct_op_LRN = {"", "LRN", lrn_infer, lrn_run, 0};
