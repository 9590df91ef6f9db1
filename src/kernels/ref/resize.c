/* Reference Resize / Upsample, separable over all axes. Each axis gets, per
 * output index, up to four (input index, weight) taps: one for nearest, two
 * for linear, four for cubic; an output element is the weighted sum over the
 * product of its axes' taps. Coordinates are mapped in float with the same
 * formulas as ONNX Runtime, so nearest-neighbour picks agree exactly. */
#include <math.h>
#include <stdlib.h>

#include "kernels/ref/ref_nn.h"

typedef struct rtap {
    int n;      /* taps in use */
    int oob;    /* tf_crop_and_resize sample outside the input */
    int64_t idx[4];
    double w[4];
} rtap;

static float orig_coord(const oct_resize_params *p, int d, float xr) {
    float scale = p->scale[d], lr = (float)p->out[d], lo = (float)p->in[d];
    float s = p->roi_start[d], e = p->roi_end[d];
    switch (p->coord) {
    case OCT_COORD_HALF_PIXEL: return (xr + 0.5f) / scale - 0.5f;
    case OCT_COORD_HALF_PIXEL_SYMMETRIC: {
        float adjustment = lr / (scale * lo);
        float center = lo / 2.0f;
        float offset = center * (1.0f - adjustment);
        /* the tail in double, as ONNX Runtime computes it */
        return (float)(offset + ((double)xr + 0.5) / scale - 0.5);
    }
    case OCT_COORD_PYTORCH_HALF_PIXEL: return lr > 1.0f ? (xr + 0.5f) / scale - 0.5f : 0.0f;
    case OCT_COORD_ALIGN_CORNERS: return lr == 1.0f ? 0.0f : xr * (lo - 1.0f) / (lr - 1.0f);
    case OCT_COORD_ASYMMETRIC: return xr / scale;
    case OCT_COORD_TF_HALF_PIXEL_FOR_NN: return (xr + 0.5f) / scale;
    case OCT_COORD_TF_CROP_AND_RESIZE:
        return lr > 1.0f ? s * (lo - 1.0f) + (xr * (e - s) * (lo - 1.0f)) / (lr - 1.0f)
                         : 0.5f * (s + e) * (lo - 1.0f);
    }
    return xr;
}

/* ONNX Runtime (1.2x-1.3x, measured) treats a coordinate within 1e-6 of a
 * half as a tie in the round_prefer_* modes, so that e.g. 2 / (4/7.f) =
 * 3.4999998 still counts as 3.5; floor and ceil use the value as it is. */
#define OCT_RESIZE_TIE_EPS 1e-6f

static int64_t nearest_index(oct_resize_nearest m, float x, int shrinking) {
    float fl = floorf(x);
    int tie = fabsf(x - (fl + 0.5f)) < OCT_RESIZE_TIE_EPS;
    switch (m) {
    case OCT_NEAREST_ROUND_PREFER_FLOOR: return tie ? (int64_t)fl : (int64_t)roundf(x);
    case OCT_NEAREST_ROUND_PREFER_CEIL: return tie ? (int64_t)fl + 1 : (int64_t)roundf(x);
    case OCT_NEAREST_FLOOR: return (int64_t)fl;
    case OCT_NEAREST_CEIL: return (int64_t)ceilf(x);
    case OCT_NEAREST_SIMPLE: return shrinking ? (int64_t)ceilf(x) : (int64_t)x;
    }
    return 0;
}

static int64_t clampi(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Keys' cubic convolution weights for taps at -1, 0, 1, 2 from floor(x). */
static void cubic_coeffs(double t, double a, double *c) {
    double t1 = t + 1.0, u = 1.0 - t, u1 = 2.0 - t;
    c[0] = ((a * t1 - 5.0 * a) * t1 + 8.0 * a) * t1 - 4.0 * a;
    c[1] = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
    c[2] = ((a + 2.0) * u - (a + 3.0)) * u * u + 1.0;
    c[3] = ((a * u1 - 5.0 * a) * u1 + 8.0 * a) * u1 - 4.0 * a;
}

static void axis_taps(const oct_resize_params *p, int d, rtap *taps) {
    int64_t in = p->in[d];
    for (int64_t o = 0; o < p->out[d]; o++) {
        rtap *t = &taps[o];
        /* ONNX Runtime maps an axis with scale 1 as the identity, whatever
         * the coordinate mode (even tf_crop_and_resize's roi) */
        float x = p->scale[d] == 1.0f ? (float)o : orig_coord(p, d, (float)o);
        t->oob = p->coord == OCT_COORD_TF_CROP_AND_RESIZE && (x < 0.0f || x > (float)(in - 1));
        /* keep absurd roi / scale values (and NaN) away from integer casts */
        if (!(x > -1e12f)) x = -1e12f;
        if (x > 1e12f) x = 1e12f;
        if (p->mode == OCT_RESIZE_NEAREST) {
            t->n = 1;
            t->idx[0] = clampi(nearest_index(p->nearest, x, p->scale[d] < 1.0f), 0, in - 1);
            t->w[0] = 1.0;
        } else if (p->mode == OCT_RESIZE_LINEAR) {
            float xc = x < 0.0f ? 0.0f : x > (float)(in - 1) ? (float)(in - 1) : x;
            int64_t i0 = clampi((int64_t)xc, 0, in - 1), i1 = clampi(i0 + 1, 0, in - 1);
            double f = (double)xc - (double)i0;
            t->n = 2;
            t->idx[0] = i0;
            t->w[0] = 1.0 - f;
            t->idx[1] = i1;
            t->w[1] = f;
        } else {
            double xf = floor((double)x), c[4], sum = 0.0;
            cubic_coeffs((double)x - xf, p->cubic_a, c);
            t->n = 4;
            for (int k = 0; k < 4; k++) {
                int64_t i = (int64_t)xf - 1 + k;
                if (p->exclude_outside && (i < 0 || i >= in)) c[k] = 0.0;
                sum += c[k];
                t->idx[k] = clampi(i, 0, in - 1);
                t->w[k] = c[k];
            }
            if (p->exclude_outside && sum != 0.0)
                for (int k = 0; k < 4; k++) t->w[k] /= sum;
        }
        /* drop zero-weight taps: identity axes then cost one tap, not two or four */
        int k = 0;
        for (int j = 0; j < t->n; j++)
            if (t->w[j] != 0.0 || (k == 0 && j == t->n - 1)) {
                t->idx[k] = t->idx[j];
                t->w[k++] = t->w[j];
            }
        t->n = k;
    }
}

typedef struct rctx {
    int ndim;
    const double *x;
    int64_t xs[OCT_MAX_DIMS];
    const rtap *cur[OCT_MAX_DIMS];
} rctx;

static double gather(const rctx *r, int d, int64_t off) {
    if (d == r->ndim) return r->x[off];
    const rtap *t = r->cur[d];
    double s = 0.0;
    for (int j = 0; j < t->n; j++) s += t->w[j] * gather(r, d + 1, off + t->idx[j] * r->xs[d]);
    return s;
}

oct_status oct_ref_resize(const oct_resize_params *p, const double *x, double *y) {
    int nd = p->ndim;
    int64_t total = oct_shape_numel(nd, p->out), ntaps = 0;
    if (total == 0) return OCT_OK;
    /* as ONNX Runtime: an unchanged shape is a copy, whatever the mode */
    int same = 1;
    for (int d = 0; d < nd; d++) same &= p->out[d] == p->in[d];
    if (same) {
        for (int64_t e = 0; e < total; e++) y[e] = x[e];
        return OCT_OK;
    }
    for (int d = 0; d < nd; d++) ntaps += p->out[d];
    rtap *taps = malloc((size_t)(ntaps > 0 ? ntaps : 1) * sizeof *taps);
    if (!taps) return OCT_E_NOMEM;
    const rtap *axis[OCT_MAX_DIMS];
    int64_t acc = 0;
    for (int d = 0; d < nd; d++) {
        axis_taps(p, d, taps + acc);
        axis[d] = taps + acc;
        acc += p->out[d];
    }
    rctx r;
    r.ndim = nd;
    r.x = x;
    oct_strides(nd, p->in, r.xs);
    int64_t o[OCT_MAX_DIMS] = {0};
    for (int64_t e = 0; e < total; e++) {
        int oob = 0;
        for (int d = 0; d < nd; d++) {
            r.cur[d] = &axis[d][o[d]];
            oob |= r.cur[d]->oob;
        }
        y[e] = oob ? (double)p->extrapolation : gather(&r, 0, 0);
        for (int d = nd - 1; d >= 0; d--) {
            if (++o[d] < p->out[d]) break;
            o[d] = 0;
        }
    }
    free(taps);
    return OCT_OK;
}
