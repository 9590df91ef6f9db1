/* Resize (opsets 10, 11-12, 13, 18, 19) and Upsample (7-9).
 * Opset 10 Resize and Upsample map coordinates asymmetrically and pick the
 * nearest pixel as ONNX Runtime does for them (ceil when shrinking, floor
 * otherwise). From 11, Resize takes roi, scales and sizes inputs and the
 * coordinate_transformation_mode / nearest_mode / cubic attributes; 18 adds
 * axes and keep_aspect_ratio_policy. antialias is not implemented. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/ref_nn.h"

static oct_status parse_mode(const oct_opctx *c, int allow_cubic, oct_resize_params *p) {
    const char *m = oct_attr_str(c->node, "mode", "nearest");
    if (!strcmp(m, "nearest"))
        p->mode = OCT_RESIZE_NEAREST;
    else if (!strcmp(m, "linear") || !strcmp(m, "bilinear"))
        p->mode = OCT_RESIZE_LINEAR;
    else if (!strcmp(m, "cubic") && allow_cubic)
        p->mode = OCT_RESIZE_CUBIC;
    else
        return oct_op_fail(c, OCT_E_INVALID_ARG, "unknown mode '%s'", m);
    return OCT_OK;
}

static oct_status parse_coord(const oct_opctx *c, oct_resize_params *p) {
    static const struct { const char *name; oct_resize_coord v; } tab[] = {
        {"half_pixel", OCT_COORD_HALF_PIXEL},
        {"half_pixel_symmetric", OCT_COORD_HALF_PIXEL_SYMMETRIC},
        {"pytorch_half_pixel", OCT_COORD_PYTORCH_HALF_PIXEL},
        {"align_corners", OCT_COORD_ALIGN_CORNERS},
        {"asymmetric", OCT_COORD_ASYMMETRIC},
        {"tf_half_pixel_for_nn", OCT_COORD_TF_HALF_PIXEL_FOR_NN},
        {"tf_crop_and_resize", OCT_COORD_TF_CROP_AND_RESIZE},
    };
    static const struct { const char *name; oct_resize_nearest v; } ntab[] = {
        {"round_prefer_floor", OCT_NEAREST_ROUND_PREFER_FLOOR},
        {"round_prefer_ceil", OCT_NEAREST_ROUND_PREFER_CEIL},
        {"floor", OCT_NEAREST_FLOOR},
        {"ceil", OCT_NEAREST_CEIL},
    };
    const char *s = oct_attr_str(c->node, "coordinate_transformation_mode", "half_pixel");
    size_t i;
    for (i = 0; i < sizeof tab / sizeof tab[0] && strcmp(s, tab[i].name); i++) {}
    if (i == sizeof tab / sizeof tab[0])
        return oct_op_fail(c, OCT_E_INVALID_ARG, "unknown coordinate_transformation_mode '%s'", s);
    p->coord = tab[i].v;
    s = oct_attr_str(c->node, "nearest_mode", "round_prefer_floor");
    for (i = 0; i < sizeof ntab / sizeof ntab[0] && strcmp(s, ntab[i].name); i++) {}
    if (i == sizeof ntab / sizeof ntab[0])
        return oct_op_fail(c, OCT_E_INVALID_ARG, "unknown nearest_mode '%s'", s);
    p->nearest = ntab[i].v;
    return OCT_OK;
}

static oct_status init_params(const oct_opctx *c, oct_resize_params *p) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    memset(p, 0, sizeof *p);
    if (x->ndim < 1) return oct_op_fail(c, OCT_E_SHAPE, "input X is a scalar");
    p->ndim = x->ndim;
    for (int d = 0; d < x->ndim; d++) {
        p->in[d] = p->out[d] = x->dims[d];
        p->scale[d] = 1.0f;
        p->roi_start[d] = 0.0f;
        p->roi_end[d] = 1.0f;
    }
    p->coord = OCT_COORD_ASYMMETRIC;
    p->nearest = OCT_NEAREST_SIMPLE;
    p->cubic_a = -0.75f;
    return OCT_OK;
}

/* Reads n float scales from input i (or from attribute values when i < 0). */
static oct_status read_scales(const oct_opctx *c, const oct_tensor *t, int n, float *v) {
    if (!oct_nn_is_real(t->dtype) || oct_numel(t) != n)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "scales must hold %d float values", n);
    for (int i = 0; i < n; i++) {
        v[i] = (float)oct_get_f64(t, i);
        if (!(v[i] > 0.0f) || isinf(v[i]))
            return oct_op_fail(c, OCT_E_INVALID_ARG, "scales[%d] = %g must be positive", i, v[i]);
    }
    return OCT_OK;
}

/* Output sizes from the per-axis scales, truncated as ONNX Runtime does. */
static oct_status sizes_from_scales(const oct_opctx *c, oct_resize_params *p) {
    for (int d = 0; d < p->ndim; d++) {
        float o = p->scale[d] * (float)p->in[d];
        if (o > (float)((int64_t)1 << 40))
            return oct_op_fail(c, OCT_E_SHAPE, "axis %d: output size %g is too large", d, o);
        p->out[d] = (int64_t)o;
    }
    return OCT_OK;
}

static oct_status finish(const oct_opctx *c, oct_resize_params *p) {
    const oct_tensor *x = c->in[0];
    for (int d = 0; d < p->ndim; d++)
        if (p->in[d] == 0 && p->out[d] > 0)
            return oct_op_fail(c, OCT_E_SHAPE, "axis %d: cannot resize an empty axis to %lld", d,
                               (long long)p->out[d]);
    if (p->mode != OCT_RESIZE_NEAREST && !oct_nn_is_real(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "%s interpolation of %s",
                           p->mode == OCT_RESIZE_LINEAR ? "linear" : "cubic", oct_dtype_name(x->dtype));
    if (!oct_nn_is_real(x->dtype) && !oct_dtype_is_int(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s", oct_dtype_name(x->dtype));
    return OCT_OK;
}

oct_status oct_upsample_params_get(const oct_opctx *c, oct_resize_params *p) {
    OCT_TRY(init_params(c, p));
    OCT_TRY(parse_mode(c, 0, p));
    int r = p->ndim;
    if (c->opset >= 9) {
        OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
        OCT_TRY(oct_op_need_value(c, 1));
        OCT_TRY(read_scales(c, c->in[1], r, p->scale));
    } else {
        const float *s;
        if (oct_attr_floats(c->node, "scales", &s) != r)
            return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute scales must hold %d values", r);
        for (int d = 0; d < r; d++) {
            if (!(s[d] >= 1.0f) || isinf(s[d]))
                return oct_op_fail(c, OCT_E_INVALID_ARG, "scales[%d] = %g (>= 1 required)", d, s[d]);
            p->scale[d] = s[d];
        }
    }
    OCT_TRY(sizes_from_scales(c, p));
    return finish(c, p);
}

oct_status oct_resize_params_get(const oct_opctx *c, oct_resize_params *p) {
    OCT_TRY(init_params(c, p));
    int r = p->ndim;
    if (c->opset < 11) {
        OCT_TRY(parse_mode(c, 0, p));
        OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
        OCT_TRY(oct_op_need_value(c, 1));
        OCT_TRY(read_scales(c, c->in[1], r, p->scale));
        OCT_TRY(sizes_from_scales(c, p));
        return finish(c, p);
    }
    OCT_TRY(parse_mode(c, 1, p));
    OCT_TRY(parse_coord(c, p));
    p->cubic_a = oct_attr_float(c->node, "cubic_coeff_a", -0.75f);
    p->exclude_outside = oct_attr_int(c->node, "exclude_outside", 0) != 0;
    p->extrapolation = oct_attr_float(c->node, "extrapolation_value", 0.0f);

    /* axes (opset 18): the axes that scales, sizes and roi refer to */
    int axes[OCT_MAX_DIMS], na = r;
    for (int d = 0; d < r; d++) axes[d] = d;
    const int64_t *av;
    int64_t nav = c->opset >= 18 ? oct_attr_ints(c->node, "axes", &av) : -1;
    if (nav >= 0) {
        if (nav > r) return oct_op_fail(c, OCT_E_INVALID_ARG, "axes has %lld values for rank %d", (long long)nav, r);
        na = (int)nav;
        for (int i = 0; i < na; i++) {
            OCT_TRY(oct_op_axis(c, av[i], r, &axes[i]));
            for (int j = 0; j < i; j++)
                if (axes[j] == axes[i]) return oct_op_fail(c, OCT_E_INVALID_ARG, "axis %d repeats", axes[i]);
        }
    }

    const oct_tensor *roi = oct_in(c, 1), *sc = oct_in(c, 2), *sz = oct_in(c, 3);
    if (sc && oct_numel(sc) == 0) sc = NULL;
    if (sz && oct_numel(sz) == 0) sz = NULL;
    if (!sc == !sz)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "exactly one of scales and sizes must be given");
    /* roi matters only to tf_crop_and_resize and only to the kernel; shapes
     * are inferred without it when it is not known yet */
    if (roi && oct_numel(roi) > 0 && roi->data && p->coord == OCT_COORD_TF_CROP_AND_RESIZE) {
        if (!oct_nn_is_real(roi->dtype) || oct_numel(roi) != 2 * na)
            return oct_op_fail(c, OCT_E_INVALID_ARG, "roi must hold %d float values", 2 * na);
        for (int i = 0; i < na; i++) {
            p->roi_start[axes[i]] = (float)oct_get_f64(roi, i);
            p->roi_end[axes[i]] = (float)oct_get_f64(roi, na + i);
        }
    }
    if (sc) {
        float v[OCT_MAX_DIMS];
        OCT_TRY(oct_op_need_value(c, 2));
        OCT_TRY(read_scales(c, sc, na, v));
        for (int i = 0; i < na; i++) p->scale[axes[i]] = v[i];
        OCT_TRY(sizes_from_scales(c, p));
    } else {
        int64_t v[OCT_MAX_DIMS];
        OCT_TRY(oct_op_need_value(c, 3));
        if (sz->dtype != OCT_INT64 || oct_read_ints(sz, v, OCT_MAX_DIMS) != na)
            return oct_op_fail(c, OCT_E_INVALID_ARG, "sizes must be int64 with %d values", na);
        const char *pol = c->opset >= 18 ? oct_attr_str(c->node, "keep_aspect_ratio_policy", "stretch")
                                         : "stretch";
        int keep = !strcmp(pol, "not_larger") ? 1 : !strcmp(pol, "not_smaller") ? 2 : 0;
        if (!keep && strcmp(pol, "stretch"))
            return oct_op_fail(c, OCT_E_INVALID_ARG, "unknown keep_aspect_ratio_policy '%s'", pol);
        float ks = keep == 1 ? INFINITY : 0.0f;
        for (int i = 0; i < na; i++) {
            int d = axes[i];
            if (v[i] < 0 || v[i] > ((int64_t)1 << 40))
                return oct_op_fail(c, OCT_E_INVALID_ARG, "sizes[%d] = %lld", i, (long long)v[i]);
            float s = p->in[d] ? (float)v[i] / (float)p->in[d] : 1.0f;
            p->out[d] = v[i];
            p->scale[d] = s;
            if (keep == 1 && s < ks) ks = s;
            if (keep == 2 && s > ks) ks = s;
        }
        if (keep)
            for (int i = 0; i < na; i++) {
                int d = axes[i];
                p->scale[d] = ks;
                p->out[d] = (int64_t)roundf(ks * (float)p->in[d]);
            }
    }
    if (c->opset >= 18 && oct_attr_int(c->node, "antialias", 0) && p->mode != OCT_RESIZE_NEAREST)
        for (int d = 0; d < r; d++)
            if (p->scale[d] < 1.0f)
                return oct_op_fail(c, OCT_E_UNSUPPORTED, "antialias when downscaling");
    return finish(c, p);
}

static oct_status resize_infer_common(oct_opctx *c, int upsample) {
    oct_resize_params p;
    OCT_TRY(upsample ? oct_upsample_params_get(c, &p) : oct_resize_params_get(c, &p));
    if (c->out[0]) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, p.ndim, p.out);
    return OCT_OK;
}

static oct_status resize_run_common(oct_opctx *c, int upsample) {
    oct_resize_params p;
    OCT_TRY(upsample ? oct_upsample_params_get(c, &p) : oct_resize_params_get(c, &p));
    oct_tensor *y = c->out[0];
    if (!y) return OCT_OK;
    double *x = oct_nn_load_f64(c->in[0]);
    double *yv = malloc((size_t)(oct_numel(y) + 1) * sizeof *yv);
    oct_status st = x && yv ? oct_ref_resize(&p, x, yv) : OCT_E_NOMEM;
    if (!st) oct_nn_store_f64(y, yv);
    free(x);
    free(yv);
    return st ? oct_op_fail(c, st, "out of memory") : OCT_OK;
}

static oct_status resize_infer(oct_opctx *c) { return resize_infer_common(c, 0); }
static oct_status resize_run(oct_opctx *c) { return resize_run_common(c, 0); }
static oct_status upsample_infer(oct_opctx *c) { return resize_infer_common(c, 1); }
static oct_status upsample_run(oct_opctx *c) { return resize_run_common(c, 1); }

const oct_op_def oct_op_Resize = {"", "Resize", resize_infer, resize_run, 0};
const oct_op_def oct_op_Upsample = {"", "Upsample", upsample_infer, upsample_run, 0};
