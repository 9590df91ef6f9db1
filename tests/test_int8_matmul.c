/* The INT8 MatMul and Gemm (oct_session_create_int8, src/backends/dnnl/
 * dnnl_matmul_int8.c) against the simulation on the reference kernels
 * (oct_session_create_simulated with force_reference), on one-node ONNX
 * models written here: MatMul with A [1, M, K] and [M, K], Gemm with transB
 * 0 and 1, with and without a bias; K and N from {1, 3, 13, 127}, M from
 * {1, 7, 33}; random non-zero data; weights per output column and per
 * tensor, 8 and 4 bits; signed inputs (two u8 passes) and non-negative ones
 * (Relu before the node: one pass); float and INT8 outputs; inputs at the
 * extremes of the int8 range, which a saturating 16-bit pair sum in oneDNN
 * would get wrong. Then the nodes the INT8 kernel must leave to the
 * simulation (uint8 input, transA, alpha or beta != 1, a non-constant or
 * batched B, a full [M, N] C, an FP32 plan node): no INT8 kernel, same
 * output.
 *
 * The bound is test_int8_conv.c's: both sides compute the same real number
 * from the same int8 codes, exactly in int32 here and as float products in
 * the simulation, so a float output differs by float rounding only (checked:
 * within 1e-4 of the output's range); an INT8 output may move by one step
 * where the two sit on either side of a rounding boundary (seen: an exact
 * 101.5 steps here, 101.49999 as the simulation's float sum), so its codes
 * must never be more than 1 apart, at most one (or 0.1%) may differ in a
 * case, and >= 99.9% must be identical over all the cases' INT8 outputs.
 * A case fails when the INT8 kernel did not run where it should (or ran
 * where it should not), so the test cannot pass vacuously; the first case
 * of each kind runs verbose, and its log shows the kernel ("dnnl:int8:...").
 * Prints "N passed, N failed"; exits 77 (skip) without oneDNN. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "int8_test.h"

/* INT8 outputs over all cases: codes compared, codes that differ */
static size_t codes_total, codes_differ;

/* AttributeProto FLOAT (type 1). */
static void attr_float(buf *node, const char *name, float v) {
    buf a = {0};
    f_str(&a, 1, name);
    key(&a, 2, 5);
    put(&a, &v, 4);
    f_varint(&a, 20, 1);
    f_msg(node, 5, &a);
}

/* ---- the cases -------------------------------------------------------------- */

enum { KIND_MM3, KIND_MM2, KIND_GEMM };

/* Plan variants: weights per column or per tensor, 8 or 4 bits. */
enum { VAR_PC8, VAR_PT8, VAR_PC4, VAR_PT4 };

/* What makes the INT8 kernel decline (DECL_NONE: it must run). */
enum {
    DECL_NONE,
    DECL_ASYM,      /* the input is asymmetric uint8 in the plan */
    DECL_TRANS_A,   /* Gemm transA 1 */
    DECL_ALPHA,     /* Gemm alpha 0.5 */
    DECL_BETA,      /* Gemm beta 0.5 with a bias */
    DECL_B_INPUT,   /* B a graph input, not a constant */
    DECL_B_BATCHED, /* MatMul A [2, M, K] x constant B [2, K, N] */
    DECL_C_FULL,    /* Gemm C [M, N] */
    DECL_FP32_NODE  /* the plan keeps the node in FP32 */
};

typedef struct {
    int kind;
    int64_t m, k, n;
    int trans_b, bias, relu_in, out_int8, extreme, variant, decline;
} mm_case;

static const char *kind_name(const mm_case *c) {
    if (c->kind == KIND_MM3) return "MatMul [1,M,K]";
    if (c->kind == KIND_MM2) return "MatMul [M,K]";
    if (c->trans_b) return c->bias ? "Gemm transB bias" : "Gemm transB";
    return c->bias ? "Gemm bias" : "Gemm";
}

static const char *decline_name(int d) {
    static const char *names[] = {"",           "uint8 input", "transA",  "alpha 0.5", "beta 0.5",
                                  "B an input", "batched B",   "C [M,N]", "fp32 node"};
    return names[d];
}

static const char *variant_name(int v) {
    static const char *names[] = {"per-column 8-bit", "per-tensor 8-bit", "per-column 4-bit",
                                  "per-tensor 4-bit"};
    return names[v];
}

typedef struct {
    int nd_x, nd_w, nd_y, nd_b;
    int64_t x[3], w[3], y[3], b[2];
} mm_dims;

static void case_dims(const mm_case *c, mm_dims *d) {
    memset(d, 0, sizeof *d);
    int64_t M = c->m, K = c->k, N = c->n;
    d->nd_w = 2;
    d->w[0] = c->trans_b ? N : K;
    d->w[1] = c->trans_b ? K : N;
    d->nd_b = 1;
    d->b[0] = N;
    if (c->decline == DECL_C_FULL) {
        d->nd_b = 2;
        d->b[0] = M;
        d->b[1] = N;
    }
    if (c->kind == KIND_MM3 || c->decline == DECL_B_BATCHED) {
        int64_t batch = c->decline == DECL_B_BATCHED ? 2 : 1;
        d->nd_x = d->nd_y = 3;
        d->x[0] = d->y[0] = batch;
        d->x[1] = d->y[1] = M;
        d->x[2] = K;
        d->y[2] = N;
        if (c->decline == DECL_B_BATCHED) {
            d->nd_w = 3;
            d->w[0] = batch;
            d->w[1] = K;
            d->w[2] = N;
        }
        return;
    }
    d->nd_x = d->nd_y = 2;
    d->x[0] = c->decline == DECL_TRANS_A ? K : M;
    d->x[1] = c->decline == DECL_TRANS_A ? M : K;
    d->y[0] = M;
    d->y[1] = N;
}

static size_t numel(int nd, const int64_t *d) {
    size_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= (size_t)d[i];
    return n;
}

/* Writes the model; returns malloc'ed bytes. Tensors: "x" (graph input; with
 * relu_in the node reads "xr" = Relu(x)), "w" (B), "b" (C), "y". */
static unsigned char *make_model(const mm_case *c, const mm_dims *d, const float *wt,
                                 const float *bias, size_t *size) {
    buf g = {0}, a = {0};
    const char *in0 = "x";
    if (c->relu_in) {
        const char *in[1] = {"x"};
        node(&g, "relu_in", "Relu", 1, in, "xr", NULL);
        in0 = "xr";
    }
    const char *in[3] = {in0, "w", "b"};
    if (c->kind == KIND_GEMM) {
        if (c->trans_b) attr_int(&a, "transB", 1);
        if (c->decline == DECL_TRANS_A) attr_int(&a, "transA", 1);
        if (c->decline == DECL_ALPHA) attr_float(&a, "alpha", 0.5f);
        if (c->decline == DECL_BETA) attr_float(&a, "beta", 0.5f);
        node(&g, "mm", "Gemm", c->bias ? 3 : 2, in, "y", &a);
    } else {
        node(&g, "mm", "MatMul", 2, in, "y", NULL);
    }
    f_str(&g, 2, "int8_matmul_case");
    if (c->decline != DECL_B_INPUT) tensor_init(&g, "w", d->nd_w, d->w, wt, numel(d->nd_w, d->w));
    if (c->bias) tensor_init(&g, "b", d->nd_b, d->b, bias, numel(d->nd_b, d->b));
    value_info(&g, 11, "x", d->nd_x, d->x);
    if (c->decline == DECL_B_INPUT) value_info(&g, 11, "w", d->nd_w, d->w);
    value_info(&g, 12, "y", d->nd_y, d->y);
    return model_finish(&g, a.oom, size);
}

/* Uniform in [-1, 1) without 0. */
static float urand_nz(void) {
    float v;
    do
        v = urand();
    while (v == 0);
    return v;
}

static int run_session(oct_session *s, const mm_case *c, const mm_dims *d, const float *x,
                       const float *wt, oct_tensor_view *y, oct_error *err) {
    oct_tensor_view xv = {OCT_FLOAT, d->nd_x, {0}, (void *)x};
    oct_tensor_view wv = {OCT_FLOAT, d->nd_w, {0}, (void *)wt};
    memcpy(xv.dims, d->x, sizeof d->x);
    memcpy(wv.dims, d->w, sizeof d->w);
    return oct_session_set_input(s, "x", &xv, err) ||
           (c->decline == DECL_B_INPUT && oct_session_set_input(s, "w", &wv, err)) ||
           oct_session_run(s, err) || oct_session_get_output(s, 0, y, err);
}

static void run_case(const mm_case *c, int verbose) {
    mm_dims d;
    case_dims(c, &d);
    size_t nx = numel(d.nd_x, d.x), nw = numel(d.nd_w, d.w), ny = numel(d.nd_y, d.y),
           nb = numel(d.nd_b, d.b);
    float *x = malloc(nx * sizeof(float)), *wt = malloc(nw * sizeof(float));
    float *bias = malloc(nb * sizeof(float)), *ysim = malloc(ny * sizeof(float));
    char what[160];
    snprintf(what, sizeof what, "%s M%lld K%lld N%lld %s%s%s%s%s%s", kind_name(c), (long long)c->m,
             (long long)c->k, (long long)c->n, variant_name(c->variant),
             c->relu_in ? ", relu input" : "", c->out_int8 ? ", int8 out" : "",
             c->extreme ? ", extreme" : "", c->decline ? ", declines: " : "",
             decline_name(c->decline));
    oct_model *m = NULL;
    oct_session *ss = NULL, *si = NULL;
    oct_plan *plan = NULL;
    oct_error err = {0};
    unsigned char *model = NULL;
    if (!x || !wt || !bias || !ysim) {
        CHECK(0, "%s: out of memory", what);
        goto done;
    }
    /* A different magnitude per output column, so per-column scales
     * differ; inputs mostly within the plan range, some beyond it. */
    int64_t N = c->n, K = c->k;
    for (size_t i = 0; i < nw; i++) {
        int64_t col = c->trans_b ? (int64_t)(i / (size_t)K) : (int64_t)(i % (size_t)N);
        float mag = 0.05f + 0.5f * (float)((col * 37 + 11) % 100) / 100.0f;
        wt[i] = c->extreme ? mag * (0.9f + 0.1f * fabsf(urand_nz())) : mag * urand_nz();
    }
    for (size_t i = 0; i < nb; i++)
        bias[i] = 0.3f * urand_nz();
    /* every other input positive: a Relu in front must not zero them all */
    for (size_t i = 0; i < nx; i++) {
        x[i] = c->extreme ? (rnd() & 1 ? 2.0f : -2.0f) : 2.0f * urand_nz();
        if (c->relu_in && i % 2 == 0) x[i] = fabsf(x[i]);
    }
    size_t size = 0;
    model = make_model(c, &d, wt, bias, &size);
    if (!model) {
        CHECK(0, "%s: cannot write the model", what);
        goto done;
    }
    if (oct_model_load_memory(model, size, &m, &err)) {
        CHECK(0, "%s: model: %s", what, err.message);
        goto done;
    }
    plan = oct_plan_new();
    int t = oct_plan_add_tensor(plan, c->relu_in ? "xr" : "x");
    plan->tensors[t].precision = OCT_PREC_INT8;
    plan->tensors[t].amax = 1.7; /* 2.0-range data: some codes saturate */
    plan->tensors[t].scale = (float)(1.7 / 127.0);
    if (c->decline == DECL_ASYM) {
        plan->asymmetric = 1;
        plan->tensors[t].is_unsigned = 1;
        plan->tensors[t].min = -1.2;
        plan->tensors[t].max = 1.7;
        oct_asym_params_u8(-1.2, 1.7, &plan->tensors[t].scale, &plan->tensors[t].zero_point);
    }
    if (c->variant == VAR_PT8 || c->variant == VAR_PT4) plan->weights = OCT_WEIGHTS_PER_TENSOR;
    if (c->variant == VAR_PC4 || c->variant == VAR_PT4) plan->weight_bits = 4;
    int nd = oct_plan_add_node(plan, "mm", c->kind == KIND_GEMM ? "Gemm" : "MatMul");
    plan->nodes[nd].precision = c->decline == DECL_FP32_NODE ? OCT_PREC_FP32 : OCT_PREC_INT8;

    oct_session_options so;
    oct_session_options_init(&so);
    so.threads = 2;
    so.force_reference = 1;
    float y_scale = 0;
    if (c->out_int8) {
        /* The output's range from an FP32 run of the model. */
        oct_session *sf = NULL;
        oct_tensor_view o;
        if (oct_session_create(m, &so, &sf, &err) || run_session(sf, c, &d, x, wt, &o, &err)) {
            CHECK(0, "%s: fp32 run: %s", what, err.message);
            oct_session_free(sf);
            goto done;
        }
        float a = 0.9f * amax_of(o.data, ny);
        oct_session_free(sf);
        int ty = oct_plan_add_tensor(plan, "y");
        plan->tensors[ty].precision = OCT_PREC_INT8;
        plan->tensors[ty].amax = a;
        y_scale = plan->tensors[ty].scale = (float)(a / 127.0);
    }
    if (oct_session_create_simulated(m, &so, plan, &ss, &err)) {
        CHECK(0, "%s: simulated session: %s", what, err.message);
        goto done;
    }
    so.force_reference = 0;
    so.verbose = verbose;
    if (verbose) fflush(stdout);
    if (oct_session_create_int8(m, &so, plan, &si, &err)) {
        CHECK(0, "%s: int8 session: %s", what, err.message);
        goto done;
    }
    oct_tensor_view ys, yi;
    if (run_session(ss, c, &d, x, wt, &ys, &err)) {
        CHECK(0, "%s: simulated run: %s", what, err.message);
        goto done;
    }
    memcpy(ysim, ys.data, ny * sizeof(float));
    if (run_session(si, c, &d, x, wt, &yi, &err)) {
        CHECK(0, "%s: int8 run: %s", what, err.message);
        goto done;
    }
    int kernels = oct_session_int8_kernels(si), want = c->decline ? 0 : 1;
    CHECK(kernels == want, "%s: expected %d INT8 kernel(s), %d ran", what, want, kernels);
    const float *yv = yi.data;
    float amax = amax_of(ysim, ny);
    double max_err = 0;
    size_t differ = 0, far = 0, nonzero = 0;
    for (size_t i = 0; i < ny; i++) {
        double e = fabs((double)yv[i] - ysim[i]);
        if (e > max_err || e != e) max_err = e != e ? INFINITY : e;
        if (ysim[i] != 0) nonzero++;
        if (c->out_int8) {
            /* both are code * y_scale: compare the codes */
            double ci = nearbyint(yv[i] / y_scale), cs = nearbyint(ysim[i] / y_scale);
            if (ci != cs) differ++;
            if (!(fabs(ci - cs) <= 1)) far++;
        }
    }
    double step = c->out_int8 ? y_scale : (amax > 0 ? amax / 127.0 : 1.0);
    printf("  %-78s max err %.3g (%.2e steps)%s", what, max_err, max_err / step,
           c->out_int8 ? "" : "\n");
    if (c->out_int8) printf(", %zu/%zu codes differ\n", differ, ny);
    CHECK(nonzero > 0, "%s: the simulation's output is all zeros: the case tests nothing", what);
    if (c->out_int8) {
        CHECK(far == 0, "%s: %zu codes more than one step from the simulation's", what, far);
        /* one tie anywhere, more only in a large tensor; the 99.9% bound
         * holds over all the INT8 outputs (main) */
        CHECK((double)differ <= fmax(1.0, 0.001 * (double)ny),
              "%s: %zu of %zu codes differ from the simulation's", what, differ, ny);
        codes_total += ny;
        codes_differ += differ;
    } else {
        CHECK(max_err <= 1e-4 * amax,
              "%s: max error %.4g exceeds float rounding (1e-4 of the range %.4g)", what, max_err,
              amax);
    }
done:
    oct_session_free(ss);
    oct_session_free(si);
    oct_plan_free(plan);
    oct_model_free(m);
    free(model);
    free(x);
    free(wt);
    free(bias);
    free(ysim);
}

int main(void) {
#ifndef OCT_HAVE_DNNL
    printf("SKIPPED: built without oneDNN, no INT8 kernels\n0 passed, 0 failed\n");
    return 77;
#else
    static const int64_t kn[] = {1, 3, 13, 127}, ms[] = {1, 7, 33};
    /* Every shape for every kind; along each kind's shapes the plan variant,
     * the output's precision and the input's sign take turns, so each kind
     * meets every combination of variant and output several times. */
    static const mm_case kinds[] = {
        {KIND_MM3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},  {KIND_MM2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {KIND_GEMM, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {KIND_GEMM, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
        {KIND_GEMM, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, {KIND_GEMM, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0},
    };
    for (size_t kd = 0; kd < sizeof kinds / sizeof kinds[0]; kd++) {
        int idx = 0;
        for (int im = 0; im < 3; im++)
            for (int ik = 0; ik < 4; ik++)
                for (int in = 0; in < 4; in++, idx++) {
                    mm_case c = kinds[kd];
                    c.m = ms[im];
                    c.k = kn[ik];
                    c.n = kn[in];
                    c.variant = idx % 4;
                    c.out_int8 = (idx / 4) % 2;
                    c.relu_in = idx % 5 == 2;
                    run_case(&c, idx == 0);
                }
    }
    /* Extreme inputs (every code +-127/128) and one-signed weights: the
     * largest pair sums, which saturate 16-bit arithmetic unless the
     * sources are u8 <= 128. */
    static const mm_case extreme[] = {
        {KIND_MM2, 33, 127, 127, 0, 0, 0, 0, 1, VAR_PC8, 0},
        {KIND_MM2, 33, 127, 13, 0, 0, 1, 0, 1, VAR_PC8, 0},
        {KIND_GEMM, 7, 127, 127, 1, 1, 0, 0, 1, VAR_PT8, 0},
        {KIND_GEMM, 7, 127, 13, 0, 1, 0, 1, 1, VAR_PC8, 0},
        {KIND_MM3, 33, 127, 3, 0, 0, 0, 0, 1, VAR_PC4, 0},
    };
    for (size_t i = 0; i < sizeof extreme / sizeof extreme[0]; i++)
        run_case(&extreme[i], 0);
    /* Left to the simulation: no INT8 kernel, the same output. */
    static const mm_case declined[] = {
        {KIND_MM2, 7, 13, 13, 0, 0, 0, 0, 0, VAR_PC8, DECL_ASYM},
        {KIND_GEMM, 7, 13, 13, 0, 1, 0, 0, 0, VAR_PC8, DECL_ASYM},
        {KIND_GEMM, 7, 13, 13, 0, 1, 0, 0, 0, VAR_PC8, DECL_TRANS_A},
        {KIND_GEMM, 7, 13, 13, 1, 1, 0, 0, 0, VAR_PC8, DECL_ALPHA},
        {KIND_GEMM, 7, 13, 13, 0, 1, 0, 0, 0, VAR_PC8, DECL_BETA},
        {KIND_MM2, 7, 13, 13, 0, 0, 0, 0, 0, VAR_PC8, DECL_B_INPUT},
        {KIND_GEMM, 7, 13, 13, 0, 0, 0, 0, 0, VAR_PC8, DECL_B_INPUT},
        {KIND_MM3, 7, 13, 13, 0, 0, 0, 0, 0, VAR_PC8, DECL_B_BATCHED},
        {KIND_GEMM, 7, 13, 13, 0, 1, 0, 0, 0, VAR_PC8, DECL_C_FULL},
        {KIND_MM2, 7, 13, 13, 0, 0, 0, 0, 0, VAR_PC8, DECL_FP32_NODE},
        {KIND_GEMM, 7, 13, 13, 1, 1, 0, 0, 0, VAR_PT4, DECL_FP32_NODE},
    };
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++)
        run_case(&declined[i], 0);
    printf("INT8 outputs: %zu of %zu codes differ from the simulation's (%.4f%%)\n", codes_differ,
           codes_total, codes_total ? 100.0 * (double)codes_differ / (double)codes_total : 0.0);
    CHECK(codes_total > 0 && (double)codes_differ <= 0.001 * (double)codes_total,
          "more than 0.1%% of the INT8 output codes differ from the simulation's");
    return check_summary();
#endif
}
