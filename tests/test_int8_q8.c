/* The q8 backend (src/backends/cpu/cpu_q8.c): MaxPool, Concat, Split,
 * nearest Resize and Add on int8 codes between INT8 Convs, against the
 * simulation on the reference kernels, on small generated graphs shaped
 * like yolov10n's blocks (SPPF, C2f, the FPN's upsample + concat, residual
 * adds): odd channel counts and spatial sizes, plans whose INT8 tensors all
 * have different scales (every q8 kernel requantizes) or one shared scale
 * (pure copies), signed (SiLU, none) and Relu inputs, float and INT8
 * outputs.
 *
 * The bound is int8_test.h's: a float output within float rounding (1e-4
 * of its range), an INT8 output at most one step off on at most 0.1% of
 * its values. Each case also counts the session's kernels by impl string
 * (the session's steps, runtime/runtime.h), so a fallback to the float
 * kernels cannot pass. Prints "N passed, N failed"; exits 77 (skip)
 * without oneDNN (no INT8 Convs to produce codes). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "int8_test.h"
#include "runtime/runtime.h"

/* ---- builder pieces int8_test.h does not have ------------------------------ */

static void attr_str(buf *nd, const char *name, const char *v) {
    buf a = {0};
    f_str(&a, 1, name);
    f_str(&a, 4, v);
    f_varint(&a, 20, 3); /* STRING */
    f_msg(nd, 5, &a);
}

static void tensor_i64(buf *graph, const char *name, int64_t n, const int64_t *v) {
    buf t = {0};
    f_varint(&t, 1, n);
    f_varint(&t, 2, 7); /* INT64 */
    f_str(&t, 8, name);
    f_bytes(&t, 9, v, (size_t)n * sizeof(int64_t));
    f_msg(graph, 5, &t);
}

/* ---- a graph under construction -------------------------------------------- */

enum { ACT_NONE, ACT_RELU, ACT_SILU };

#define MAX_T 24
typedef struct {
    buf g;
    int oom;
    int act; /* the Convs' activation */
    int n_t; /* activations named so far (the plan's INT8 tensors) */
    char t[MAX_T][16];
    int64_t dims[MAX_T][4];
    int n_conv;
    char conv[8][16];
} gb;

static int find_t(const gb *b, const char *name) {
    for (int i = 0; i < b->n_t; i++)
        if (!strcmp(b->t[i], name)) return i;
    return -1;
}

static void add_t(gb *b, const char *name, int64_t n, int64_t c, int64_t h, int64_t w) {
    if (b->n_t == MAX_T) return;
    snprintf(b->t[b->n_t], sizeof b->t[0], "%s", name);
    int64_t d[4] = {n, c, h, w};
    memcpy(b->dims[b->n_t++], d, sizeof d);
}

static const int64_t *dims_of(const gb *b, const char *name) { return b->dims[find_t(b, name)]; }

/* out = act(Conv(in)), k x k, stride 1, pad k / 2, oc output channels;
 * random weights scaled so the outputs stay of order 1. */
static void conv(gb *b, const char *in, const char *out, int64_t oc, int64_t k) {
    const int64_t *d = dims_of(b, in);
    char name[16], w[24], bias[24], pre[24], sig[24];
    snprintf(name, sizeof name, "conv%d", b->n_conv);
    snprintf(b->conv[b->n_conv++], sizeof b->conv[0], "%s", name);
    snprintf(w, sizeof w, "%s_w", name);
    snprintf(bias, sizeof bias, "%s_b", name);
    snprintf(pre, sizeof pre, "%s_pre", name);
    snprintf(sig, sizeof sig, "%s_sig", name);
    size_t nw = (size_t)(oc * d[1] * k * k);
    float *wt = malloc(nw * sizeof(float)), *bv = malloc((size_t)oc * sizeof(float));
    if (!wt || !bv) {
        b->oom = 1;
        free(wt);
        free(bv);
        return;
    }
    float mag = 1.5f / sqrtf((float)(d[1] * k * k));
    for (size_t i = 0; i < nw; i++)
        wt[i] = mag * urand();
    for (int64_t i = 0; i < oc; i++)
        bv[i] = 0.2f * urand();
    int64_t wd[4] = {oc, d[1], k, k}, bd[1] = {oc};
    tensor_init(&b->g, w, 4, wd, wt, nw);
    tensor_init(&b->g, bias, 1, bd, bv, (size_t)oc);
    free(wt);
    free(bv);
    buf a = {0};
    int64_t ks[2] = {k, k}, pads[4] = {k / 2, k / 2, k / 2, k / 2};
    attr_ints(&a, "kernel_shape", 2, ks);
    attr_ints(&a, "pads", 4, pads);
    const char *cin[3] = {in, w, bias};
    node(&b->g, name, "Conv", 3, cin, b->act == ACT_NONE ? out : pre, &a);
    if (b->act == ACT_RELU) {
        const char *ri[1] = {pre};
        node(&b->g, sig, "Relu", 1, ri, out, NULL);
    } else if (b->act == ACT_SILU) {
        const char *si[1] = {pre}, *mi[2] = {pre, sig};
        node(&b->g, sig, "Sigmoid", 1, si, sig, NULL);
        node(&b->g, out, "Mul", 2, mi, out, NULL);
    }
    add_t(b, out, d[0], oc, d[2], d[3]);
}

static void maxpool(gb *b, const char *in, const char *out, int64_t k, int64_t s, int64_t pad,
                    int64_t dil, int ceil_mode) {
    const int64_t *d = dims_of(b, in);
    buf a = {0};
    int64_t ks[2] = {k, k}, ss[2] = {s, s}, ds[2] = {dil, dil}, ps[4] = {pad, pad, pad, pad};
    attr_ints(&a, "kernel_shape", 2, ks);
    attr_ints(&a, "strides", 2, ss);
    attr_ints(&a, "dilations", 2, ds);
    attr_ints(&a, "pads", 4, ps);
    attr_int(&a, "ceil_mode", ceil_mode);
    const char *i1[1] = {in};
    node(&b->g, out, "MaxPool", 1, i1, out, &a);
    int64_t o[2];
    for (int i = 0; i < 2; i++) {
        int64_t span = d[2 + i] + 2 * pad - ((k - 1) * dil + 1);
        o[i] = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
        /* ONNX: the last window must start inside the input or left padding */
        if (ceil_mode && (o[i] - 1) * s >= d[2 + i] + pad) o[i]--;
    }
    add_t(b, out, d[0], d[1], o[0], o[1]);
}

static void concat(gb *b, int n, const char *const *in, const char *out) {
    const int64_t *d = dims_of(b, in[0]);
    int64_t c = 0;
    for (int i = 0; i < n; i++)
        c += dims_of(b, in[i])[1];
    buf a = {0};
    attr_int(&a, "axis", 1);
    node(&b->g, out, "Concat", n, in, out, &a);
    add_t(b, out, d[0], c, d[2], d[3]);
}

static void split(gb *b, const char *in, int n, const char *const *out, const int64_t *sizes) {
    const int64_t *d = dims_of(b, in);
    char sname[24];
    snprintf(sname, sizeof sname, "%s_sizes", out[0]);
    tensor_i64(&b->g, sname, n, sizes);
    buf a = {0};
    attr_int(&a, "axis", 1);
    const char *i2[2] = {in, sname};
    node_n(&b->g, out[0], "Split", 2, i2, n, out, &a);
    int64_t n0 = d[0], h = d[2], w = d[3];
    for (int i = 0; i < n; i++)
        add_t(b, out[i], n0, sizes[i], h, w);
}

/* Resize (opset 13) by 2 in H and W, nearest; asym: yolo's asymmetric +
 * floor, else ONNX's defaults (half_pixel, round_prefer_floor). */
static void resize2(gb *b, const char *in, const char *out, int asym) {
    const int64_t *d = dims_of(b, in);
    char sname[24];
    snprintf(sname, sizeof sname, "%s_scales", out);
    float sc[4] = {1, 1, 2, 2};
    int64_t sd[1] = {4};
    tensor_init(&b->g, sname, 1, sd, sc, 4);
    buf a = {0};
    attr_str(&a, "mode", "nearest");
    if (asym) {
        attr_str(&a, "coordinate_transformation_mode", "asymmetric");
        attr_str(&a, "nearest_mode", "floor");
    }
    const char *i3[3] = {in, "", sname};
    node(&b->g, out, "Resize", 3, i3, out, &a);
    add_t(b, out, d[0], d[1], 2 * d[2], 2 * d[3]);
}

static void add2(gb *b, const char *x0, const char *x1, const char *out) {
    const int64_t *d = dims_of(b, x0);
    const char *in[2] = {x0, x1};
    node(&b->g, out, "Add", 2, in, out, NULL);
    add_t(b, out, d[0], d[1], d[2], d[3]);
}

/* The model with "x" as input and, as outputs, "y" only, or (probe) every
 * activation, to measure their ranges. */
static unsigned char *finish(gb *b, int probe, size_t *size) {
    buf g = {0};
    put(&g, b->g.p, b->g.n);
    f_str(&g, 2, "int8_q8_case");
    value_info(&g, 11, "x", 4, dims_of(b, "x"));
    for (int i = 0; i < b->n_t; i++)
        if (probe ? strcmp(b->t[i], "x") != 0 : !strcmp(b->t[i], "y"))
            value_info(&g, 12, b->t[i], 4, b->dims[i]);
    return model_finish(&g, b->oom || b->g.oom, size);
}

/* ---- the cases ---------------------------------------------------------------- */

/* G_C2F_MIX: s0 and b2 are FP32 (the Concat quantizes floats into codes);
 * G_C2F_MIX2: the Concat's output too (codes and floats out as floats). */
enum {
    G_SPPF,
    G_SPPF_S2,
    G_C2F,
    G_C2F_MIX,
    G_C2F_MIX2,
    G_UPCAT,
    G_RESID,
    G_RESID_OUT,
    G_POOL_F32OUT,
    G_FLOAT_POOL
};
enum { SC_DIFF, SC_SAME };

typedef struct {
    const char *what;
    int graph, act, scales, y_int8;
    int64_t c, h, w;
    int want_q8;   /* q8 kernels expected to run */
    int want_conv; /* INT8 Convs expected to run */
} q8_case;

static void build(gb *b, const q8_case *qc) {
    memset(b, 0, sizeof *b);
    b->act = qc->act;
    add_t(b, "x", 1, qc->c, qc->h, qc->w);
    int64_t c = qc->c;
    switch (qc->graph) {
    case G_SPPF:
    case G_SPPF_S2: {
        conv(b, "x", "a", c, 1);
        if (qc->graph == G_SPPF) {
            maxpool(b, "a", "m1", 5, 1, 2, 1, 0);
            maxpool(b, "m1", "m2", 5, 1, 2, 1, 0);
            maxpool(b, "m2", "m3", 5, 1, 2, 1, 0);
        } else { /* strides, dilation, ceil_mode: the pooled maps shrink */
            maxpool(b, "a", "m1", 3, 1, 2, 2, 0);
            maxpool(b, "m1", "m2", 3, 2, 1, 1, 1);
            maxpool(b, "m2", "m3", 2, 1, 0, 1, 0);
            conv(b, "m3", "y", c + 2, 3);
            break;
        }
        const char *in[4] = {"a", "m1", "m2", "m3"};
        concat(b, 4, in, "cat");
        conv(b, "cat", "y", c + 2, 1);
        break;
    }
    case G_C2F:
    case G_C2F_MIX:
    case G_C2F_MIX2: {
        conv(b, "x", "a", 2 * c + 1, 1);
        const char *parts[2] = {"s0", "s1"};
        int64_t sizes[2] = {c, c + 1};
        split(b, "a", 2, parts, sizes);
        conv(b, "s1", "b1", c, 3);
        conv(b, "b1", "b2", c, 3);
        const char *in[4] = {"s0", "s1", "b1", "b2"};
        concat(b, 4, in, "cat");
        conv(b, "cat", "y", c, 1);
        break;
    }
    case G_UPCAT: {
        conv(b, "x", "a", c, 1);
        resize2(b, "a", "u", qc->act != ACT_RELU);
        conv(b, "u", "b1", c + 2, 3);
        const char *in[2] = {"u", "b1"};
        concat(b, 2, in, "cat");
        conv(b, "cat", "y", c, 1);
        break;
    }
    case G_RESID:
    case G_RESID_OUT:
        conv(b, "x", "a", c, 1);
        conv(b, "a", "b1", c, 3);
        if (qc->graph == G_RESID_OUT) { /* the sum is the graph output */
            add2(b, "a", "b1", "y");
            break;
        }
        add2(b, "a", "b1", "s");
        conv(b, "s", "y", c, 1);
        break;
    default: /* G_POOL_F32OUT: m1 is FP32 in the plan; G_FLOAT_POOL: a too */
        conv(b, "x", "a", c, 1);
        maxpool(b, "a", "m1", 3, 1, 1, 1, 0);
        conv(b, "m1", "y", c, 1);
        break;
    }
}

static float amax_f(const float *v, size_t n) {
    float a = 0;
    for (size_t i = 0; i < n; i++)
        a = fabsf(v[i]) > a ? fabsf(v[i]) : a;
    return a;
}

static size_t numel4(const int64_t *d) { return (size_t)(d[0] * d[1] * d[2] * d[3]); }

static void count_kernels(const oct_session *s, int *q8, int *conv8) {
    *q8 = *conv8 = 0;
    for (int i = 0; i < s->exec.n_steps; i++) {
        const char *impl = s->exec.steps[i]->impl;
        if (!strncmp(impl, "q8:", 3)) ++*q8;
        if (!strncmp(impl, "dnnl:int8", 9)) ++*conv8;
    }
}

static void run_case(const q8_case *qc) {
    gb b;
    build(&b, qc);
    size_t psize = 0, size = 0;
    unsigned char *probe = finish(&b, 1, &psize), *model = finish(&b, 0, &size);
    const int64_t *xd = dims_of(&b, "x"), *yd = dims_of(&b, "y");
    size_t nx = numel4(xd), ny = numel4(yd);
    float *x = malloc(nx * sizeof(float)), *ysim = malloc(ny * sizeof(float));
    oct_model *pm = NULL, *m = NULL;
    oct_session *sf = NULL, *ss = NULL, *si = NULL;
    oct_plan *plan = NULL;
    oct_error err = {0};
    oct_session_options so;
    oct_session_options_init(&so);
    so.threads = 2;
    so.force_reference = 1;
    if (!probe || !model || !x || !ysim) {
        CHECK(0, "%s: out of memory", qc->what);
        goto done;
    }
    for (size_t i = 0; i < nx; i++)
        x[i] = 2.0f * urand();
    oct_tensor_view xin = {OCT_FLOAT, 4, {xd[0], xd[1], xd[2], xd[3]}, x};
    if (oct_model_load_memory(probe, psize, &pm, &err) ||
        oct_model_load_memory(model, size, &m, &err) || oct_session_create(pm, &so, &sf, &err) ||
        oct_session_set_input(sf, "x", &xin, &err) || oct_session_run(sf, &err)) {
        CHECK(0, "%s: fp32 probe: %s", qc->what, err.message);
        goto done;
    }
    /* The plan: every activation INT8 (y when y_int8), every Conv INT8.
     * SC_DIFF: each tensor's own scale, 0.8 of its range times a factor
     * that differs from tensor to tensor (some codes saturate);
     * SC_SAME: one scale for all. */
    plan = oct_plan_new();
    float amax[MAX_T] = {0}, shared = 0;
    for (int i = 0; i < b.n_t; i++) {
        if (!strcmp(b.t[i], "x")) {
            amax[i] = 1.7f;
        } else {
            int k;
            for (k = 0; k < oct_session_num_outputs(sf); k++)
                if (!strcmp(oct_session_output_name(sf, k), b.t[i])) break;
            oct_tensor_view o;
            if (oct_session_get_output(sf, k, &o, &err)) {
                CHECK(0, "%s: probe output %s: %s", qc->what, b.t[i], err.message);
                goto done;
            }
            amax[i] = 0.8f * amax_f(o.data, numel4(b.dims[i])) * (0.75f + 0.07f * (float)i);
        }
        if (amax[i] > shared) shared = amax[i];
    }
    for (int i = 0; i < b.n_t; i++) {
        int is_y = !strcmp(b.t[i], "y");
        int fp32 =
            (is_y && !qc->y_int8) ||
            ((qc->graph == G_POOL_F32OUT || qc->graph == G_FLOAT_POOL) && !strcmp(b.t[i], "m1")) ||
            (qc->graph == G_FLOAT_POOL && !strcmp(b.t[i], "a")) ||
            ((qc->graph == G_C2F_MIX || qc->graph == G_C2F_MIX2) &&
             (!strcmp(b.t[i], "s0") || !strcmp(b.t[i], "b2"))) ||
            (qc->graph == G_C2F_MIX2 && !strcmp(b.t[i], "cat"));
        int t = oct_plan_add_tensor(plan, b.t[i]);
        float a = qc->scales == SC_SAME && !is_y ? shared : amax[i];
        plan->tensors[t].precision = fp32 ? OCT_PREC_FP32 : OCT_PREC_INT8;
        plan->tensors[t].amax = a;
        plan->tensors[t].scale = (float)(a / 127.0);
    }
    for (int i = 0; i < b.n_conv; i++) {
        int nd = oct_plan_add_node(plan, b.conv[i], "Conv"); /* may move plan->nodes */
        plan->nodes[nd].precision = OCT_PREC_INT8;
    }
    if (oct_session_create_simulated(m, &so, plan, &ss, &err)) {
        CHECK(0, "%s: simulated session: %s", qc->what, err.message);
        goto done;
    }
    so.force_reference = 0;
    if (oct_session_create_int8(m, &so, plan, &si, &err)) {
        CHECK(0, "%s: int8 session: %s", qc->what, err.message);
        goto done;
    }
    oct_tensor_view ys, yi;
    if (oct_session_set_input(ss, "x", &xin, &err) || oct_session_run(ss, &err) ||
        oct_session_get_output(ss, 0, &ys, &err)) {
        CHECK(0, "%s: simulation: %s", qc->what, err.message);
        goto done;
    }
    memcpy(ysim, ys.data, ny * sizeof(float));
    if (oct_session_set_input(si, "x", &xin, &err) || oct_session_run(si, &err) ||
        oct_session_get_output(si, 0, &yi, &err)) {
        CHECK(0, "%s: int8 run: %s", qc->what, err.message);
        goto done;
    }
    int q8, conv8;
    count_kernels(si, &q8, &conv8);
    CHECK(q8 == qc->want_q8, "%s: expected %d q8 kernel(s), %d ran", qc->what, qc->want_q8, q8);
    CHECK(conv8 == qc->want_conv, "%s: expected %d INT8 Conv(s), %d ran", qc->what, qc->want_conv,
          conv8);
    float ya = amax_f(ysim, ny);
    int iy = find_t(&b, "y");
    double step = qc->y_int8 ? amax[iy] / 127.0 : (ya > 0 ? ya / 127.0 : 1.0);
    const float *yv = yi.data;
    double max_err = 0;
    size_t moved = 0, nonzero = 0;
    for (size_t i = 0; i < ny; i++) {
        double e = fabs((double)yv[i] - ysim[i]);
        if (e > max_err || e != e) max_err = e != e ? INFINITY : e;
        if (e > 1e-4 * step) moved++;
        nonzero += ysim[i] != 0;
    }
    printf("  %-50s %d q8 + %d conv kernels, max err %.3g (%.2e steps), %zu/%zu moved\n", qc->what,
           q8, conv8, max_err, max_err / step, moved, ny);
    CHECK(nonzero > 0, "%s: the simulation's output is all zeros", qc->what);
    if (qc->y_int8) {
        CHECK(max_err <= step * (1 + 1e-4), "%s: max error %.4g exceeds one step %.4g", qc->what,
              max_err, step);
        CHECK((double)moved <= 0.001 * (double)ny, "%s: %zu of %zu outputs moved by a step",
              qc->what, moved, ny);
    } else {
        CHECK(max_err <= 1e-4 * step * 127, "%s: max error %.4g exceeds float rounding (%.4g)",
              qc->what, max_err, 1e-4 * step * 127);
    }
done:
    oct_session_free(sf);
    oct_session_free(ss);
    oct_session_free(si);
    oct_model_free(pm);
    oct_model_free(m);
    oct_plan_free(plan);
    free(b.g.p);
    free(probe);
    free(model);
    free(x);
    free(ysim);
}

int main(void) {
#ifndef OCT_HAVE_DNNL
    printf("SKIPPED: built without oneDNN, no INT8 Convs to produce codes\n0 passed, 0 failed\n");
    return 77;
#else
    static const q8_case cases[] = {
        /* what                                    graph  act  scales y8  c  h  w  q8 conv */
        {"sppf 13ch 9x11 silu, scales differ", G_SPPF, ACT_SILU, SC_DIFF, 0, 13, 9, 11, 4, 2},
        {"sppf 13ch 9x11 silu, one scale", G_SPPF, ACT_SILU, SC_SAME, 0, 13, 9, 11, 4, 2},
        {"sppf 127ch 7x5 relu, int8 out", G_SPPF, ACT_RELU, SC_DIFF, 1, 127, 7, 5, 4, 2},
        {"sppf 1ch 5x7 no act", G_SPPF, ACT_NONE, SC_DIFF, 0, 1, 5, 7, 4, 2},
        {"pools: dil2, s2 ceil_mode, k2; 3ch 11x9", G_SPPF_S2, ACT_SILU, SC_DIFF, 0, 3, 11, 9, 3,
         2},
        {"pools: dil2, s2 ceil_mode, k2; 300ch 13x13", G_SPPF_S2, ACT_RELU, SC_SAME, 1, 300, 13, 13,
         3, 2},
        {"c2f 13ch 9x7 silu, scales differ", G_C2F, ACT_SILU, SC_DIFF, 0, 13, 9, 7, 2, 4},
        {"c2f 13ch 9x7 silu, one scale", G_C2F, ACT_SILU, SC_SAME, 0, 13, 9, 7, 2, 4},
        {"c2f 3ch 5x5 relu, int8 out", G_C2F, ACT_RELU, SC_DIFF, 1, 3, 5, 5, 2, 4},
        {"c2f, fp32 parts: concat quantizes floats", G_C2F_MIX, ACT_SILU, SC_DIFF, 0, 13, 9, 7, 2,
         4},
        {"c2f, fp32 parts and concat: float out", G_C2F_MIX2, ACT_RELU, SC_DIFF, 0, 13, 9, 7, 2, 3},
        {"c2f 127ch 3x3 no act", G_C2F, ACT_NONE, SC_DIFF, 0, 127, 3, 3, 2, 4},
        {"resize x2 (asymmetric floor) + concat 13ch 5x7", G_UPCAT, ACT_SILU, SC_DIFF, 0, 13, 5, 7,
         2, 3},
        {"resize x2 (asymmetric floor), one scale", G_UPCAT, ACT_SILU, SC_SAME, 1, 13, 5, 7, 2, 3},
        {"resize x2 (half_pixel) + concat 3ch relu", G_UPCAT, ACT_RELU, SC_DIFF, 0, 3, 7, 5, 2, 3},
        {"resize x2 127ch 3x5 no act", G_UPCAT, ACT_NONE, SC_DIFF, 1, 127, 3, 5, 2, 3},
        {"residual add 13ch 9x11 silu", G_RESID, ACT_SILU, SC_DIFF, 0, 13, 9, 11, 1, 3},
        {"residual add 13ch one scale, int8 out", G_RESID, ACT_SILU, SC_SAME, 1, 13, 9, 11, 1, 3},
        {"residual add 127ch 5x3 relu", G_RESID, ACT_RELU, SC_DIFF, 0, 127, 5, 3, 1, 3},
        {"residual add 1ch 7x7 no act", G_RESID, ACT_NONE, SC_DIFF, 1, 1, 7, 7, 1, 3},
        {"add as the int8 graph output (float out)", G_RESID_OUT, ACT_SILU, SC_DIFF, 1, 13, 9, 7, 1,
         2},
        {"add as the fp32 graph output", G_RESID_OUT, ACT_RELU, SC_DIFF, 0, 13, 9, 7, 1, 2},
        {"int8 maxpool to an fp32 tensor (codes in, float out)", G_POOL_F32OUT, ACT_SILU, SC_DIFF,
         0, 13, 9, 7, 1, 1},
        {"fp32 maxpool between convs: declines", G_FLOAT_POOL, ACT_SILU, SC_DIFF, 0, 13, 9, 7, 0,
         1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
    return check_summary();
#endif
}
