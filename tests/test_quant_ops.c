/* Unit tests of the quantization operators through their op definitions
 * (infer, then run, as the runtime calls them): rounding ties and
 * saturation, per-axis and blocked scales, DynamicQuantizeLinear's corner
 * cases, and the integer ops (ConvInteger, QLinearConv, MatMulInteger,
 * QLinearMatMul, QLinearAdd/Mul, the QLinear pools) on random data against
 * plain loops written here, plus Dropout and malformed inputs that must fail
 * cleanly. Prints failures and "N passed, N failed". */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/arith.h"
#include "ops/op.h"

/* ---- small tensor and node builders ---------------------------------------- */

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}
static int32_t rnd_in(int32_t lo, int32_t hi) {
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

#define MAXT 64
static oct_tensor pool_t[MAXT];
static int n_t;

static oct_tensor *slot(void) {
    if (n_t == MAXT) {
        printf("test_quant_ops: raise MAXT\n");
        exit(2);
    }
    oct_tensor *t = &pool_t[n_t++];
    memset(t, 0, sizeof *t);
    return t;
}

static oct_tensor *T(oct_dtype dt, int nd, const int64_t *dims) {
    oct_tensor *t = slot();
    oct_tensor_set_shape(t, dt, nd, dims);
    oct_tensor_alloc(t);
    return t;
}
static void release_all(void) {
    for (int i = 0; i < n_t; i++)
        oct_tensor_release(&pool_t[i]);
    n_t = 0;
}
static oct_tensor *scalar_f(float v) {
    oct_tensor *t = T(OCT_FLOAT, 0, NULL);
    *(float *)t->data = v;
    return t;
}
static oct_tensor *scalar_q(oct_dtype dt, int32_t v) {
    oct_tensor *t = T(dt, 0, NULL);
    oct_set_f64(t, 0, v);
    return t;
}
static void fill_rand(oct_tensor *t, int32_t lo, int32_t hi) {
    for (int64_t i = 0; i < oct_numel(t); i++)
        oct_set_f64(t, i, rnd_in(lo, hi));
}
static int32_t qmin(oct_dtype dt) { return dt == OCT_INT8 ? -128 : 0; }
static int32_t qmax(oct_dtype dt) { return dt == OCT_INT8 ? 127 : 255; }

static oct_attr A_INT(const char *name, int64_t v) {
    oct_attr a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.type = OCT_ATTR_INT;
    a.i = v;
    return a;
}
static oct_attr A_INTS(const char *name, int64_t n, const int64_t *v) {
    oct_attr a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.type = OCT_ATTR_INTS;
    a.n = n;
    a.ints = (int64_t *)v;
    return a;
}

static oct_error last_err;

/* Infers, allocates the outputs and runs one node. */
static oct_status run_op(const char *domain, const char *op, int64_t opset, int n_in,
                         const oct_tensor **in, int n_out, oct_tensor **out, oct_attr *attrs,
                         int n_attr) {
    oct_node node;
    memset(&node, 0, sizeof node);
    node.name = (char *)"test";
    node.op_type = (char *)op;
    node.domain = (char *)domain;
    node.opset = opset;
    node.attrs = attrs;
    node.n_attr = n_attr;
    const oct_op_def *d = oct_op_lookup(domain, op);
    if (!d) {
        printf("op %s not registered\n", op);
        return OCT_E_UNSUPPORTED;
    }
    memset(&last_err, 0, sizeof last_err);
    oct_opctx c = {&node, n_in, in, n_out, out, opset, 1, &last_err};
    oct_status st = d->infer(&c);
    if (st) return st;
    for (int i = 0; i < n_out; i++)
        if (out[i] && oct_tensor_alloc(out[i])) return OCT_E_NOMEM;
    return d->run(&c);
}

static oct_tensor *empty(void) { return slot(); }

/* ---- QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear ---------- */

static void test_quantize_ties(void) {
    static const float x[] = {0.5f,  1.5f,   2.5f,    -0.5f,  -1.5f,
                              -2.5f, 300.0f, -300.0f, 127.5f, -128.5f};
    static const int8_t want[] = {0, 2, 2, 0, -2, -2, 127, -128, 127, -128};
    int64_t n = 10;
    oct_tensor *xt = T(OCT_FLOAT, 1, &n), *y = empty();
    memcpy(xt->data, x, sizeof x);
    const oct_tensor *in[3] = {xt, scalar_f(1.0f), scalar_q(OCT_INT8, 0)};
    CHECK(run_op("", "QuantizeLinear", 13, 3, in, 1, &y, NULL, 0) == OCT_OK, "%s",
          last_err.message);
    CHECK(y->dtype == OCT_INT8, "dtype %d", y->dtype);
    for (int i = 0; i < 10; i++)
        CHECK(((int8_t *)y->data)[i] == want[i], "x %g: got %d want %d", x[i],
              ((int8_t *)y->data)[i], want[i]);
    /* uint8, no zero point input: default uint8 zp 0; scale 0.5 */
    oct_tensor *y2 = empty();
    const oct_tensor *in2[2] = {xt, scalar_f(0.5f)};
    CHECK(run_op("", "QuantizeLinear", 10, 2, in2, 1, &y2, NULL, 0) == OCT_OK, "%s",
          last_err.message);
    CHECK(y2->dtype == OCT_UINT8, "dtype %d", y2->dtype);
    static const uint8_t want2[] = {1, 3, 5, 0, 0, 0, 255, 0, 255, 0};
    for (int i = 0; i < 10; i++)
        CHECK(((uint8_t *)y2->data)[i] == want2[i], "x %g: got %d want %d", x[i],
              ((uint8_t *)y2->data)[i], want2[i]);
    release_all();
}

/* The per-tensor float <-> 8-bit loops (clamp, then magic-number rounding;
 * what Q/DQ models run on every activation) against the element-by-element
 * arithmetic of arith.h, on odd lengths (vector tails) with ties, NaN,
 * infinities and values far beyond the codes, for every zero point kind. */
static void test_quantize_per_tensor_fast(void) {
    static const int64_t lens[] = {1, 3, 13, 127, 1031};
    static const float scales[] = {1.0f, 0.5f, 0.0078125f, 0.1f, 3.7f};
    int bad_q = 0, bad_dq = 0, runs = 0;
    for (int li = 0; li < 5; li++)
        for (int si = 0; si < 5; si++)
            for (int dt = 0; dt < 2; dt++) {
                oct_dtype qt = dt ? OCT_UINT8 : OCT_INT8;
                int32_t lo = qmin(qt), hi = qmax(qt), zp = dt ? rnd_in(0, 255) : rnd_in(-128, 127);
                int64_t n = lens[li];
                oct_tensor *x = T(OCT_FLOAT, 1, &n), *y = empty(), *back = empty();
                float *xf = x->data, sc = scales[si];
                for (int64_t i = 0; i < n; i++) {
                    int k = rnd_in(0, 9);
                    xf[i] = k == 0 ? ((float)rnd_in(-300, 300) + 0.5f) * sc /* ties */
                            : k == 1
                                ? (float)rnd_in(-100000, 100000) * sc /* far beyond the codes */
                            : k == 2 ? (rnd_in(0, 1) ? INFINITY : -INFINITY)
                            : k == 3 ? NAN
                                     : (float)rnd_in(-20000, 20000) / 100.0f * sc;
                }
                const oct_tensor *in[3] = {x, scalar_f(sc), scalar_q(qt, zp)};
                runs++;
                if (run_op("", "QuantizeLinear", 13, 3, in, 1, &y, NULL, 0)) {
                    bad_q++;
                    continue;
                }
                for (int64_t i = 0; i < n; i++) {
                    int32_t want = oct_quantize(xf[i], sc, zp, lo, hi);
                    int32_t got = dt ? ((uint8_t *)y->data)[i] : ((int8_t *)y->data)[i];
                    bad_q += got != want;
                }
                const oct_tensor *din[3] = {y, scalar_f(sc), scalar_q(qt, zp)};
                if (run_op("", "DequantizeLinear", 13, 3, din, 1, &back, NULL, 0)) {
                    bad_dq++;
                    continue;
                }
                for (int64_t i = 0; i < n; i++) {
                    int32_t q = dt ? ((uint8_t *)y->data)[i] : ((int8_t *)y->data)[i];
                    bad_dq += ((float *)back->data)[i] != (float)(q - zp) * sc;
                }
                release_all();
            }
    CHECK(bad_q == 0,
          "per-tensor QuantizeLinear loop: %d of %d runs' values differ from oct_quantize", bad_q,
          runs);
    CHECK(bad_dq == 0, "per-tensor DequantizeLinear loop: %d values differ", bad_dq);
}

static void test_quantize_axis_and_blocks(void) {
    int64_t xd[3] = {2, 3, 4}, sd = 3, zd = 3;
    oct_tensor *x = T(OCT_FLOAT, 3, xd), *s = T(OCT_FLOAT, 1, &sd), *z = T(OCT_INT8, 1, &zd);
    for (int i = 0; i < 24; i++)
        ((float *)x->data)[i] = (float)rnd_in(-1000, 1000) / 37.0f;
    for (int i = 0; i < 3; i++) {
        ((float *)s->data)[i] = 0.1f * (float)(i + 1);
        ((int8_t *)z->data)[i] = (int8_t)(i * 5 - 5);
    }
    oct_tensor *y = empty(), *back = empty();
    oct_attr ax = A_INT("axis", -2);
    const oct_tensor *in[3] = {x, s, z};
    CHECK(run_op("", "QuantizeLinear", 13, 3, in, 1, &y, &ax, 1) == OCT_OK, "%s", last_err.message);
    int ok = 1;
    for (int i = 0; i < 24; i++) {
        int c = (i / 4) % 3;
        int32_t w = oct_quantize(((float *)x->data)[i], ((float *)s->data)[c],
                                 ((int8_t *)z->data)[c], -128, 127);
        ok &= ((int8_t *)y->data)[i] == w;
    }
    CHECK(ok, "per-axis QuantizeLinear");
    const oct_tensor *din[3] = {y, s, z};
    CHECK(run_op("", "DequantizeLinear", 13, 3, din, 1, &back, &ax, 1) == OCT_OK, "%s",
          last_err.message);
    ok = 1;
    for (int i = 0; i < 24; i++) {
        int c = (i / 4) % 3;
        float w = (float)(((int8_t *)y->data)[i] - ((int8_t *)z->data)[c]) * ((float *)s->data)[c];
        ok &= ((float *)back->data)[i] == w;
    }
    CHECK(ok, "per-axis DequantizeLinear");

    /* opset 21 blocks of 3 along the last axis (4 -> 2 blocks) */
    int64_t bd[3] = {2, 3, 2};
    oct_tensor *bs = T(OCT_FLOAT, 3, bd), *bz = T(OCT_UINT8, 3, bd), *by = empty();
    for (int i = 0; i < 12; i++) {
        ((float *)bs->data)[i] = 0.05f * (float)(i + 1);
        ((uint8_t *)bz->data)[i] = (uint8_t)(100 + i);
    }
    oct_attr battr[2] = {A_INT("axis", 2), A_INT("block_size", 3)};
    const oct_tensor *bin[3] = {x, bs, bz};
    CHECK(run_op("", "QuantizeLinear", 21, 3, bin, 1, &by, battr, 2) == OCT_OK, "%s",
          last_err.message);
    ok = 1;
    for (int i = 0; i < 24; i++) {
        int64_t o = i / 4, a = i % 4, si = o * 2 + a / 3;
        int32_t w = oct_quantize(((float *)x->data)[i], ((float *)bs->data)[si],
                                 ((uint8_t *)bz->data)[si], 0, 255);
        ok &= ((uint8_t *)by->data)[i] == w;
    }
    CHECK(ok, "blocked QuantizeLinear");
    /* a block_size that does not give the scale's shape is refused */
    oct_attr bad[2] = {A_INT("axis", 2), A_INT("block_size", 1)};
    oct_tensor *y3 = empty();
    CHECK(run_op("", "QuantizeLinear", 21, 3, bin, 1, &y3, bad, 2) == OCT_E_SHAPE,
          "blocked shape check");
    release_all();
}

static void test_dequantize_int32_fp16(void) {
    int64_t n = 3;
    oct_tensor *x = T(OCT_INT32, 1, &n), *y = empty();
    int32_t v[3] = {-1000000, 5, 123456789};
    memcpy(x->data, v, sizeof v);
    const oct_tensor *in[2] = {x, scalar_f(0.001f)};
    CHECK(run_op("", "DequantizeLinear", 13, 2, in, 1, &y, NULL, 0) == OCT_OK, "%s",
          last_err.message);
    for (int i = 0; i < 3; i++)
        CHECK(((float *)y->data)[i] == (float)v[i] * 0.001f, "int32 bias %d", i);
    /* opset 19: the output takes the scale's float16 type */
    oct_tensor *s16 = T(OCT_FLOAT16, 0, NULL), *x8 = T(OCT_UINT8, 1, &n), *y16 = empty();
    *(uint16_t *)s16->data = oct_f32_to_f16(0.25f);
    uint8_t xv[3] = {0, 10, 255};
    memcpy(x8->data, xv, 3);
    const oct_tensor *in2[3] = {x8, s16, scalar_q(OCT_UINT8, 10)};
    CHECK(run_op("", "DequantizeLinear", 19, 3, in2, 1, &y16, NULL, 0) == OCT_OK, "%s",
          last_err.message);
    CHECK(y16->dtype == OCT_FLOAT16, "fp16 output dtype %d", y16->dtype);
    for (int i = 0; i < 3; i++)
        CHECK(oct_f16_to_f32(((uint16_t *)y16->data)[i]) == (float)(xv[i] - 10) * 0.25f, "fp16 %d",
              i);
    release_all();
}

static void dql(const float *x, int64_t n, float *scale, uint8_t *zp, uint8_t *y) {
    oct_tensor *xt = T(OCT_FLOAT, 1, &n);
    memcpy(xt->data, x, (size_t)n * sizeof *x);
    oct_tensor *o[3] = {empty(), empty(), empty()};
    const oct_tensor *in[1] = {xt};
    CHECK(run_op("", "DynamicQuantizeLinear", 11, 1, in, 3, o, NULL, 0) == OCT_OK, "%s",
          last_err.message);
    *scale = *(float *)o[1]->data;
    *zp = *(uint8_t *)o[2]->data;
    memcpy(y, o[0]->data, (size_t)n);
}

static void test_dynamic_quantize(void) {
    float s;
    uint8_t z, y[4];
    static const float zeros[3] = {0, 0, 0};
    dql(zeros, 3, &s, &z, y);
    CHECK(s == 1.0f && z == 0 && y[0] == 0, "all zero: scale %g zp %d", s, z);
    static const float pos[3] = {1, 2, 3};
    dql(pos, 3, &s, &z, y);
    CHECK(s == 3.0f / 255.0f && z == 0 && y[2] == 255, "positive: scale %g zp %d y %d", s, z, y[2]);
    static const float neg[2] = {-1, -2};
    dql(neg, 2, &s, &z, y);
    CHECK(s == 2.0f / 255.0f && z == 255 && y[1] == 0, "negative: scale %g zp %d", s, z);
    /* the spec's example: [0, 2, -3, -2.5, 1.34, 0.5] */
    static const float ex[6] = {0, 2, -3, -2.5f, 1.34f, 0.5f};
    uint8_t y6[6];
    dql(ex, 6, &s, &z, y6);
    static const uint8_t want[6] = {153, 255, 0, 26, 221, 179};
    CHECK(z == 153 && memcmp(y6, want, 6) == 0, "spec example: zp %d y %d %d %d %d %d %d", z, y6[0],
          y6[1], y6[2], y6[3], y6[4], y6[5]);
    release_all();
}

/* ---- ConvInteger / QLinearConv against a direct loop ----------------------- */

typedef struct conv_case {
    int64_t n, c, h, w, m, kh, kw, group, sh, sw, dh, dw, pt, pl, pb, pr;
} conv_case;

static int64_t conv_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
    return (in + p0 + p1 - (k - 1) * d - 1) / s + 1;
}

/* acc[n][m][y][x] of the spec, exactly. */
static void conv_naive(const conv_case *k, const oct_tensor *x, int32_t xz, const oct_tensor *w,
                       const int32_t *wz, int64_t oh, int64_t ow, int64_t *acc) {
    int64_t cg = k->c / k->group, mg = k->m / k->group;
    for (int64_t n = 0; n < k->n; n++)
        for (int64_t m = 0; m < k->m; m++)
            for (int64_t oy = 0; oy < oh; oy++)
                for (int64_t ox = 0; ox < ow; ox++) {
                    int64_t s = 0, g = m / mg;
                    for (int64_t ci = 0; ci < cg; ci++)
                        for (int64_t ky = 0; ky < k->kh; ky++)
                            for (int64_t kx = 0; kx < k->kw; kx++) {
                                int64_t iy = oy * k->sh - k->pt + ky * k->dh,
                                        ix = ox * k->sw - k->pl + kx * k->dw;
                                if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w) continue;
                                int64_t xi = ((n * k->c + g * cg + ci) * k->h + iy) * k->w + ix;
                                int64_t wi = ((m * cg + ci) * k->kh + ky) * k->kw + kx;
                                s += (oct_get_i64(x, xi) - xz) * (oct_get_i64(w, wi) - wz[m]);
                            }
                    acc[((n * k->m + m) * oh + oy) * ow + ox] = s;
                }
}

static void test_conv(const conv_case *k, oct_dtype xdt, oct_dtype wdt) {
    int64_t xd[4] = {k->n, k->c, k->h, k->w}, wd[4] = {k->m, k->c / k->group, k->kh, k->kw},
            md = k->m;
    oct_tensor *x = T(xdt, 4, xd), *w = T(wdt, 4, wd), *wz = T(wdt, 1, &md);
    fill_rand(x, qmin(xdt), qmax(xdt));
    fill_rand(w, qmin(wdt), qmax(wdt));
    fill_rand(wz, qmin(wdt) / 8, qmax(wdt) / 8);
    int32_t xz = rnd_in(qmin(xdt), qmax(xdt)), wzv[64];
    for (int64_t m = 0; m < k->m; m++)
        wzv[m] = (int32_t)oct_get_i64(wz, m);
    int64_t pads[4] = {k->pt, k->pl, k->pb, k->pr}, strides[2] = {k->sh, k->sw},
            dil[2] = {k->dh, k->dw};
    oct_attr at[4] = {A_INTS("pads", 4, pads), A_INTS("strides", 2, strides),
                      A_INTS("dilations", 2, dil), A_INT("group", k->group)};
    int64_t oh = conv_out(k->h, k->kh, k->sh, k->dh, k->pt, k->pb),
            ow = conv_out(k->w, k->kw, k->sw, k->dw, k->pl, k->pr);
    int64_t *ref = malloc((size_t)(k->n * k->m * oh * ow) * sizeof *ref);
    conv_naive(k, x, xz, w, wzv, oh, ow, ref);

    oct_tensor *y = empty();
    const oct_tensor *in[4] = {x, w, scalar_q(xdt, xz), wz};
    CHECK(run_op("", "ConvInteger", 10, 4, in, 1, &y, at, 4) == OCT_OK, "%s", last_err.message);
    int ok = y->dtype == OCT_INT32 && y->ndim == 4 && y->dims[2] == oh && y->dims[3] == ow;
    for (int64_t i = 0; ok && i < oct_numel(y); i++)
        ok = ((int32_t *)y->data)[i] == ref[i];
    CHECK(ok, "ConvInteger %s x %s group %lld", oct_dtype_name(xdt), oct_dtype_name(wdt),
          (long long)k->group);

    /* QLinearConv: per-channel w_scale, bias, int8 or uint8 output */
    int64_t nb = k->m;
    oct_tensor *ws = T(OCT_FLOAT, 1, &md), *b = T(OCT_INT32, 1, &nb), *q = empty();
    for (int64_t m = 0; m < k->m; m++)
        ((float *)ws->data)[m] = (float)rnd_in(1, 1000) * 1e-5f;
    fill_rand(b, -5000, 5000);
    float xs = 0.02f, ys = 0.15f;
    int32_t yz = rnd_in(qmin(xdt), qmax(xdt));
    const oct_tensor *qin[9] = {x,  scalar_f(xs), scalar_q(xdt, xz), w, ws,
                                wz, scalar_f(ys), scalar_q(xdt, yz), b};
    CHECK(run_op("", "QLinearConv", 10, 9, qin, 1, &q, at, 4) == OCT_OK, "%s", last_err.message);
    ok = q->dtype == xdt;
    int64_t plane = oh * ow;
    for (int64_t i = 0; ok && i < oct_numel(q); i++) {
        int64_t m = (i / plane) % k->m;
        float scale = xs * ((float *)ws->data)[m] / ys;
        float v = (float)(int32_t)(ref[i] + ((int32_t *)b->data)[m]) * scale;
        int32_t want = oct_sat_i32((double)nearbyintf(v) + yz, qmin(xdt), qmax(xdt));
        ok = oct_get_i64(q, i) == want;
    }
    CHECK(ok, "QLinearConv %s x %s", oct_dtype_name(xdt), oct_dtype_name(wdt));
    free(ref);
    release_all();
}

/* ---- MatMulInteger / QLinearMatMul ------------------------------------------ */

static void test_matmul(void) {
    /* A [2,1,3,4] int8 with per-row zero points, B [5,4,2] uint8 per column */
    int64_t ad[4] = {2, 1, 3, 4}, bd[3] = {5, 4, 2}, azd = 3, bzd = 2;
    oct_tensor *a = T(OCT_INT8, 4, ad), *b = T(OCT_UINT8, 3, bd), *az = T(OCT_INT8, 1, &azd),
               *bz = T(OCT_UINT8, 1, &bzd), *y = empty();
    fill_rand(a, -128, 127);
    fill_rand(b, 0, 255);
    fill_rand(az, -20, 20);
    fill_rand(bz, 100, 150);
    const oct_tensor *in[4] = {a, b, az, bz};
    CHECK(run_op("", "MatMulInteger", 10, 4, in, 1, &y, NULL, 0) == OCT_OK, "%s", last_err.message);
    int ok =
        y->ndim == 4 && y->dims[0] == 2 && y->dims[1] == 5 && y->dims[2] == 3 && y->dims[3] == 2;
    int64_t ref[60];
    for (int64_t i = 0; i < 2; i++)
        for (int64_t j = 0; j < 5; j++)
            for (int64_t m = 0; m < 3; m++)
                for (int64_t n = 0; n < 2; n++) {
                    int64_t s = 0;
                    for (int64_t k = 0; k < 4; k++)
                        s += (oct_get_i64(a, (i * 3 + m) * 4 + k) - oct_get_i64(az, m)) *
                             (oct_get_i64(b, (j * 4 + k) * 2 + n) - oct_get_i64(bz, n));
                    ref[((i * 5 + j) * 3 + m) * 2 + n] = s;
                }
    for (int i = 0; ok && i < 60; i++)
        ok = ((int32_t *)y->data)[i] == ref[i];
    CHECK(ok, "MatMulInteger with batch broadcast and per-row/column zero points");

    /* 1-D A: [4] x [5,4,2] -> [5,2] */
    int64_t vd = 4;
    oct_tensor *v = T(OCT_INT8, 1, &vd), *yv = empty();
    fill_rand(v, -128, 127);
    const oct_tensor *vin[2] = {v, b};
    CHECK(run_op("", "MatMulInteger", 10, 2, vin, 1, &yv, NULL, 0) == OCT_OK, "%s",
          last_err.message);
    CHECK(yv->ndim == 2 && yv->dims[0] == 5 && yv->dims[1] == 2, "1-D A output rank %d", yv->ndim);

    /* QLinearMatMul with per-column b scales, uint8 x int8 */
    int64_t qa[2] = {3, 16}, qb[2] = {16, 6}, nd = 6;
    oct_tensor *qa_t = T(OCT_UINT8, 2, qa), *qb_t = T(OCT_INT8, 2, qb), *bs = T(OCT_FLOAT, 1, &nd),
               *bzz = T(OCT_INT8, 1, &nd), *q = empty();
    fill_rand(qa_t, 0, 255);
    fill_rand(qb_t, -128, 127);
    for (int i = 0; i < 6; i++)
        ((float *)bs->data)[i] = (float)rnd_in(1, 100) * 1e-4f;
    float as = 0.03f, ys = 0.2f;
    const oct_tensor *qin[8] = {qa_t, scalar_f(as), scalar_q(OCT_UINT8, 7),  qb_t, bs,
                                bzz,  scalar_f(ys), scalar_q(OCT_UINT8, 128)};
    CHECK(run_op("", "QLinearMatMul", 10, 8, qin, 1, &q, NULL, 0) == OCT_OK, "%s",
          last_err.message);
    ok = q->dtype == OCT_UINT8;
    for (int m = 0; ok && m < 3; m++)
        for (int n = 0; ok && n < 6; n++) {
            int32_t s = 0;
            for (int k = 0; k < 16; k++)
                s += (int32_t)(oct_get_i64(qa_t, m * 16 + k) - 7) *
                     (int32_t)oct_get_i64(qb_t, k * 6 + n);
            float v2 = (float)s * (as * ((float *)bs->data)[n] / ys);
            ok = oct_get_i64(q, m * 6 + n) == oct_sat_i32((double)nearbyintf(v2) + 128, 0, 255);
        }
    CHECK(ok, "QLinearMatMul per-column scales");
    /* mismatched inner sizes */
    const oct_tensor *bad[4] = {qb_t, b};
    oct_tensor *yb = empty();
    CHECK(run_op("", "MatMulInteger", 10, 2, bad, 1, &yb, NULL, 0) == OCT_E_SHAPE, "K mismatch");
    release_all();
}

/* ---- QLinearAdd / QLinearMul ------------------------------------------------ */

static void test_qbinary(void) {
    int64_t ad[3] = {2, 3, 4}, bd[2] = {3, 1}, one = 1;
    oct_tensor *a = T(OCT_INT8, 3, ad), *b = T(OCT_INT8, 2, bd), *s1 = T(OCT_INT8, 1, &one);
    fill_rand(a, -128, 127);
    fill_rand(b, -128, 127);
    fill_rand(s1, -128, 127);
    float sa = 0.05f, sb = 0.08f, sc = 0.11f;
    int32_t za = -3, zb = 4, zc = 1;
    for (int op = 0; op < 2; op++) {
        const char *name = op ? "QLinearMul" : "QLinearAdd";
        oct_tensor *y = empty(), *y2 = empty();
        const oct_tensor *in[8] = {a,
                                   scalar_f(sa),
                                   scalar_q(OCT_INT8, za),
                                   b,
                                   scalar_f(sb),
                                   scalar_q(OCT_INT8, zb),
                                   scalar_f(sc),
                                   scalar_q(OCT_INT8, zc)};
        CHECK(run_op("com.microsoft", name, 1, 8, in, 1, &y, NULL, 0) == OCT_OK, "%s",
              last_err.message);
        int ok = y->ndim == 3 && y->dims[0] == 2 && y->dims[1] == 3 && y->dims[2] == 4;
        for (int64_t i = 0; ok && i < 24; i++) {
            int32_t av = (int32_t)oct_get_i64(a, i), bv = (int32_t)oct_get_i64(b, (i / 4) % 3);
            float exact = op ? sa * (float)(av - za) * sb * (float)(bv - zb) / sc
                             : (sa * (float)(av - za) + sb * (float)(bv - zb)) / sc;
            /* ONNX Runtime's float rearrangement may move a value by one code */
            ok =
                fabs((double)oct_get_i64(y, i) - fmin(fmax(nearbyint(exact) + zc, -128), 127)) <= 1;
        }
        CHECK(ok, "%s broadcast", name);
        /* A scalar, B a tensor: the swapped path */
        const oct_tensor *in2[8] = {
            s1,           scalar_f(sa),           scalar_q(OCT_INT8, za), a,
            scalar_f(sb), scalar_q(OCT_INT8, zb), scalar_f(sc),           scalar_q(OCT_INT8, zc)};
        CHECK(run_op("com.microsoft", name, 1, 8, in2, 1, &y2, NULL, 0) == OCT_OK, "%s",
              last_err.message);
        ok = oct_numel(y2) == 24;
        for (int64_t i = 0; ok && i < 24; i++) {
            int32_t av = (int32_t)oct_get_i64(s1, 0), bv = (int32_t)oct_get_i64(a, i);
            float exact = op ? sa * (float)(av - za) * sb * (float)(bv - zb) / sc
                             : (sa * (float)(av - za) + sb * (float)(bv - zb)) / sc;
            ok = fabs((double)oct_get_i64(y2, i) - fmin(fmax(nearbyint(exact) + zc, -128), 127)) <=
                 1;
        }
        CHECK(ok, "%s scalar A", name);
    }
    release_all();
}

/* ---- QLinearGlobalAveragePool / QLinearAveragePool -------------------------- */

static void test_qpool(void) {
    int64_t xd[4] = {2, 3, 5, 6}, td[4] = {2, 5, 6, 3};
    oct_tensor *x = T(OCT_UINT8, 4, xd), *xt = T(OCT_UINT8, 4, td);
    fill_rand(x, 0, 255);
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 3; c++)
            for (int s = 0; s < 30; s++)
                ((uint8_t *)xt->data)[(n * 30 + s) * 3 + c] =
                    ((uint8_t *)x->data)[(n * 3 + c) * 30 + s];
    float xs = 0.04f, ys = 0.03f;
    int32_t xz = 17, yz = 9;
    oct_tensor *g = empty(), *gt = empty(), *ga = empty();
    const oct_tensor *in[5] = {x, scalar_f(xs), scalar_q(OCT_UINT8, xz), scalar_f(ys),
                               scalar_q(OCT_UINT8, yz)};
    CHECK(run_op("com.microsoft", "QLinearGlobalAveragePool", 1, 5, in, 1, &g, NULL, 0) == OCT_OK,
          "%s", last_err.message);
    int ok = g->ndim == 4 && g->dims[1] == 3 && g->dims[2] == 1 && g->dims[3] == 1;
    for (int i = 0; ok && i < 6; i++) {
        int32_t s = 0;
        for (int k = 0; k < 30; k++)
            s += ((uint8_t *)x->data)[i * 30 + k] - xz;
        float v = (float)s * (xs / (ys * 30.0f));
        ok = oct_get_i64(g, i) == oct_sat_i32((double)nearbyintf(v) + yz, 0, 255);
    }
    CHECK(ok, "QLinearGlobalAveragePool");
    oct_attr cl = A_INT("channels_last", 1);
    const oct_tensor *tin[5] = {xt, in[1], in[2], in[3], in[4]};
    CHECK(run_op("com.microsoft", "QLinearGlobalAveragePool", 1, 5, tin, 1, &gt, &cl, 1) == OCT_OK,
          "%s", last_err.message);
    CHECK(gt->ndim == 4 && gt->dims[3] == 3 && memcmp(gt->data, g->data, 6) == 0,
          "channels_last global pool");
    /* a kernel covering the input is the global pool */
    int64_t ks[2] = {5, 6};
    oct_attr full = A_INTS("kernel_shape", 2, ks);
    CHECK(run_op("com.microsoft", "QLinearAveragePool", 1, 5, in, 1, &ga, &full, 1) == OCT_OK, "%s",
          last_err.message);
    CHECK(oct_numel(ga) == 6 && memcmp(ga->data, g->data, 6) == 0,
          "full-window QLinearAveragePool");
    /* 3x3, stride 1, pads 1, count_include_pad 0 */
    int64_t k3[2] = {3, 3}, p1[4] = {1, 1, 1, 1};
    oct_attr at[2] = {A_INTS("kernel_shape", 2, k3), A_INTS("pads", 4, p1)};
    oct_tensor *ap = empty();
    CHECK(run_op("com.microsoft", "QLinearAveragePool", 1, 5, in, 1, &ap, at, 2) == OCT_OK, "%s",
          last_err.message);
    ok = ap->dims[2] == 5 && ap->dims[3] == 6;
    for (int nc = 0; ok && nc < 6; nc++)
        for (int oy = 0; ok && oy < 5; oy++)
            for (int ox = 0; ok && ox < 6; ox++) {
                float sum = 0;
                int cnt = 0;
                for (int iy = oy - 1; iy <= oy + 1; iy++)
                    for (int ix = ox - 1; ix <= ox + 1; ix++) {
                        if (iy < 0 || iy >= 5 || ix < 0 || ix >= 6) continue;
                        sum += xs * (float)(((uint8_t *)x->data)[nc * 30 + iy * 6 + ix] - xz);
                        cnt++;
                    }
                float avg = sum / (float)cnt;
                int32_t want = oct_sat_i32((double)nearbyintf(avg / ys + (float)yz), 0, 255);
                ok = oct_get_i64(ap, (nc * 5 + oy) * 6 + ox) == want;
            }
    CHECK(ok, "QLinearAveragePool 3x3");
    release_all();
}

/* ---- Dropout and malformed inputs ------------------------------------------ */

static void test_dropout(void) {
    int64_t d[2] = {3, 4};
    oct_tensor *x = T(OCT_FLOAT, 2, d), *tm = T(OCT_BOOL, 0, NULL);
    for (int i = 0; i < 12; i++)
        ((float *)x->data)[i] = (float)i - 5.5f;
    oct_tensor *o[2] = {empty(), empty()};
    const oct_tensor *in[3] = {x, scalar_f(0.3f), NULL};
    CHECK(run_op("", "Dropout", 13, 3, in, 2, o, NULL, 0) == OCT_OK, "%s", last_err.message);
    CHECK(memcmp(o[0]->data, x->data, 48) == 0, "Dropout copies");
    int all = o[1]->dtype == OCT_BOOL;
    for (int i = 0; all && i < 12; i++)
        all = ((uint8_t *)o[1]->data)[i] == 1;
    CHECK(all, "Dropout mask all true");
    *(uint8_t *)tm->data = 1;
    oct_tensor *o2[1] = {empty()};
    const oct_tensor *tin[3] = {x, scalar_f(0.3f), tm};
    CHECK(run_op("", "Dropout", 13, 3, tin, 1, o2, NULL, 0) == OCT_E_UNSUPPORTED,
          "training refused");
    oct_tensor *o3[1] = {empty()};
    const oct_tensor *zin[3] = {x, scalar_f(0.0f), tm};
    CHECK(run_op("", "Dropout", 13, 3, zin, 1, o3, NULL, 0) == OCT_OK, "training with ratio 0");
    release_all();
}

static void test_malformed(void) {
    int64_t d[2] = {2, 3}, three = 3, two = 2;
    oct_tensor *x = T(OCT_FLOAT, 2, d), *s3 = T(OCT_FLOAT, 1, &three), *z2 = T(OCT_UINT8, 1, &two);
    for (int i = 0; i < 3; i++)
        ((float *)s3->data)[i] = 1;
    oct_attr ax = A_INT("axis", 5);
    oct_tensor *y = empty();
    const oct_tensor *in[2] = {x, s3};
    CHECK(run_op("", "QuantizeLinear", 13, 2, in, 1, &y, &ax, 1) != OCT_OK, "axis out of range");
    oct_attr ax1 = A_INT("axis", 1);
    const oct_tensor *in2[3] = {x, s3, z2};
    CHECK(run_op("", "QuantizeLinear", 13, 3, in2, 1, &y, &ax1, 1) == OCT_E_SHAPE,
          "zero point shape");
    /* scale per channel on opset 10 (per tensor only) */
    CHECK(run_op("", "QuantizeLinear", 10, 2, in, 1, &y, NULL, 0) == OCT_E_SHAPE,
          "opset 10 per-axis");
    /* ConvInteger on float input, wrong pads count, bad group */
    int64_t xd[4] = {1, 2, 4, 4}, wd[4] = {2, 2, 3, 3};
    oct_tensor *xf = T(OCT_FLOAT, 4, xd), *xq = T(OCT_UINT8, 4, xd), *w = T(OCT_INT8, 4, wd);
    const oct_tensor *cin[2] = {xf, w}, *qin[2] = {xq, w};
    CHECK(run_op("", "ConvInteger", 10, 2, cin, 1, &y, NULL, 0) == OCT_E_UNSUPPORTED,
          "float ConvInteger");
    int64_t pads3[3] = {1, 1, 1};
    oct_attr bp = A_INTS("pads", 3, pads3), bg = A_INT("group", 3);
    CHECK(run_op("", "ConvInteger", 10, 2, qin, 1, &y, &bp, 1) == OCT_E_INVALID_ARG, "pads count");
    CHECK(run_op("", "ConvInteger", 10, 2, qin, 1, &y, &bg, 1) == OCT_E_INVALID_ARG, "group");
    /* QLinearConv w_scale of the wrong length */
    oct_tensor *ws = T(OCT_FLOAT, 1, &three);
    const oct_tensor *qc[8] = {xq,   scalar_f(1), scalar_q(OCT_UINT8, 0), w, ws,
                               NULL, scalar_f(1), scalar_q(OCT_UINT8, 0)};
    CHECK(run_op("", "QLinearConv", 10, 8, qc, 1, &y, NULL, 0) == OCT_E_SHAPE, "w_scale length");
    /* QLinearAdd with mixed dtypes */
    oct_tensor *b8 = T(OCT_INT8, 4, xd);
    const oct_tensor *qa[8] = {xq, scalar_f(1), NULL, b8, scalar_f(1), NULL, scalar_f(1), NULL};
    CHECK(run_op("com.microsoft", "QLinearAdd", 1, 8, qa, 1, &y, NULL, 0) == OCT_E_SHAPE,
          "mixed dtypes");
    release_all();
}

int main(void) {
    test_quantize_ties();
    test_quantize_per_tensor_fast();
    test_quantize_axis_and_blocks();
    test_dequantize_int32_fp16();
    test_dynamic_quantize();
    static const conv_case cases[] = {
        {1, 4, 7, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* padded 3x3 */
        {2, 4, 9, 8, 4, 3, 2, 2, 2, 1, 2, 1, 0, 1, 2,
         0}, /* groups, strides, dilation, asymmetric pads */
        {1, 6, 5, 5, 6, 3, 3, 6, 1, 1, 1, 1, 1, 1, 1, 1}, /* depthwise */
        {1, 3, 4, 4, 5, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, /* pointwise */
    };
    static const oct_dtype dts[4][2] = {
        {OCT_UINT8, OCT_INT8}, {OCT_UINT8, OCT_UINT8}, {OCT_INT8, OCT_INT8}, {OCT_INT8, OCT_UINT8}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int j = 0; j < 4; j++)
            test_conv(&cases[i], dts[j][0], dts[j][1]);
    test_matmul();
    test_qbinary();
    test_qpool();
    test_dropout();
    test_malformed();
    return check_summary();
}
