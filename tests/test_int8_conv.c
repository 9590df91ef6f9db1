/* The INT8 convolution (oct_session_create_int8, src/backends/dnnl/
 * dnnl_conv_int8.c) against the simulation on the reference kernels
 * (oct_session_create_simulated with force_reference), on small one-Conv
 * ONNX models written here: random data (never all zeros), odd channel
 * counts and sizes, strides, dilations, padding, groups, depthwise, with and
 * without bias, fused activations (Relu, SiLU, Clip), a fused residual Add,
 * signed inputs (two u8 passes) and non-negative ones (Relu before the
 * Conv: one pass), and an INT8 output tensor.
 *
 * The bound (one output step for an int8 output, float rounding for a
 * float one) and the run are int8_test.h's, shared with the ConvTranspose
 * test; every case reports its max error in output steps (step = the
 * output's scale, or amax/127 for a float output). A case also fails when
 * the INT8 kernel did not run (oneDNN declined), so the test cannot pass
 * vacuously.
 * Prints "N passed, N failed"; exits 77 (skip) without oneDNN. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "int8_test.h"

/* ---- the cases -------------------------------------------------------------- */

/* ACT_CLIP2: Clip(-0.5, 1.5) then Clip(0, 1), two post-ops of one kind */
enum { ACT_NONE, ACT_RELU, ACT_SILU, ACT_CLIP, ACT_CLIP2 };

typedef struct {
    const char *what;
    int64_t n, c, h, w, oc, kh, kw, stride, dil, pad, group;
    int bias, act, relu_in, residual, out_int8;
    int extreme; /* inputs beyond the range (every code +-127/128), weights of one sign */
    int variant; /* VAR_* */
} conv_case;

/* VAR_ASYM: the input is asymmetric uint8 in the plan, which the INT8 kernel
 * refuses (the simulation runs the node: no INT8 kernel expected);
 * VAR_PER_TENSOR: the plan quantizes weights per tensor; VAR_W4, VAR_W6,
 * VAR_W7: the plan's weight_bits is 4, 6 or 7 (the kernel gets the codes and
 * scales of those widths from the simulation; codes within +-63 on a signed
 * input run the one-pass s8 path). */
enum { VAR_NONE, VAR_ASYM, VAR_PER_TENSOR, VAR_W4, VAR_W6, VAR_W7 };

static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pad) {
    return (in + 2 * pad - ((k - 1) * d + 1)) / s + 1;
}

/* Writes the model; returns malloc'ed bytes. Tensors: "x" (graph input; with
 * relu_in the Conv reads "xr" = Relu(x)), "r" (residual input), "y". */
static unsigned char *make_model(const conv_case *cc, const float *wt, const float *bias,
                                 size_t *size) {
    buf g = {0}, a = {0};
    int64_t oh = out_size(cc->h, cc->kh, cc->stride, cc->dil, cc->pad);
    int64_t ow = out_size(cc->w, cc->kw, cc->stride, cc->dil, cc->pad);
    int64_t xd[4] = {cc->n, cc->c, cc->h, cc->w}, yd[4] = {cc->n, cc->oc, oh, ow};
    int64_t wd[4] = {cc->oc, cc->c / cc->group, cc->kh, cc->kw}, bd[1] = {cc->oc};
    const char *conv_in = "x";
    if (cc->relu_in) {
        const char *in[1] = {"x"};
        node(&g, "relu_in", "Relu", 1, in, "xr", NULL);
        conv_in = "xr";
    }
    const char *cin[3] = {conv_in, "w", "b"};
    int64_t st[2] = {cc->stride, cc->stride}, dl[2] = {cc->dil, cc->dil},
            pd[4] = {cc->pad, cc->pad, cc->pad, cc->pad};
    attr_ints(&a, "strides", 2, st);
    attr_ints(&a, "dilations", 2, dl);
    attr_ints(&a, "pads", 4, pd);
    attr_int(&a, "group", cc->group);
    const char *cur = cc->act == ACT_NONE && !cc->residual ? "y" : "conv_out";
    node(&g, "conv", "Conv", cc->bias ? 3 : 2, cin, cur, &a);
    if (cc->act == ACT_CLIP2) {
        const char *in[3] = {cur, "clip_lo", "clip_hi"};
        node(&g, "act0", "Clip", 3, in, "clip0_out", NULL);
        cur = "clip0_out";
    }
    if (cc->act != ACT_NONE) {
        const char *next = cc->residual ? "act_out" : "y";
        if (cc->act == ACT_RELU) {
            const char *in[1] = {cur};
            node(&g, "act", "Relu", 1, in, next, NULL);
        } else if (cc->act == ACT_CLIP) {
            const char *in[3] = {cur, "clip_lo", "clip_hi"};
            node(&g, "act", "Clip", 3, in, next, NULL);
        } else if (cc->act == ACT_CLIP2) {
            const char *in[3] = {cur, "clip2_lo", "clip2_hi"};
            node(&g, "act", "Clip", 3, in, next, NULL);
        } else {
            const char *in1[1] = {cur};
            node(&g, "sig", "Sigmoid", 1, in1, "sig_out", NULL);
            const char *in2[2] = {cur, "sig_out"};
            node(&g, "act", "Mul", 2, in2, next, NULL);
        }
        cur = next;
    }
    if (cc->residual) {
        const char *in[2] = {cur, "r"};
        node(&g, "add", "Add", 2, in, "y", NULL);
    }
    f_str(&g, 2, "int8_conv_case");
    tensor_init(&g, "w", 4, wd, wt, (size_t)(wd[0] * wd[1] * wd[2] * wd[3]));
    if (cc->bias) tensor_init(&g, "b", 1, bd, bias, (size_t)cc->oc);
    if (cc->act == ACT_CLIP || cc->act == ACT_CLIP2) {
        float lo = -0.5f, hi = 1.5f, lo2 = 0.0f, hi2 = 1.0f;
        tensor_init(&g, "clip_lo", 0, NULL, &lo, 1);
        tensor_init(&g, "clip_hi", 0, NULL, &hi, 1);
        if (cc->act == ACT_CLIP2) {
            tensor_init(&g, "clip2_lo", 0, NULL, &lo2, 1);
            tensor_init(&g, "clip2_hi", 0, NULL, &hi2, 1);
        }
    }
    value_info(&g, 11, "x", 4, xd);
    if (cc->residual) value_info(&g, 11, "r", 4, yd);
    value_info(&g, 12, "y", 4, yd);
    free(a.p);
    return model_finish(&g, a.oom, size);
}

static void run_case(const conv_case *cc) {
    int64_t oh = out_size(cc->h, cc->kh, cc->stride, cc->dil, cc->pad);
    int64_t ow = out_size(cc->w, cc->kw, cc->stride, cc->dil, cc->pad);
    size_t nx = (size_t)(cc->n * cc->c * cc->h * cc->w), ny = (size_t)(cc->n * cc->oc * oh * ow);
    size_t nw = (size_t)(cc->oc * (cc->c / cc->group) * cc->kh * cc->kw);
    float *x = malloc(nx * sizeof(float)), *r = malloc(ny * sizeof(float)),
          *wt = malloc(nw * sizeof(float));
    float *bias = malloc((size_t)cc->oc * sizeof(float));
    oct_plan *plan = NULL;
    unsigned char *model = NULL;
    if (!x || !r || !wt || !bias) goto done;
    /* Per output channel, a different weight magnitude, so per-channel
     * scales differ; inputs mostly within the plan range, some beyond it
     * (saturation). */
    for (int64_t o = 0; o < cc->oc; o++) {
        float mag = 0.05f + 0.5f * (float)(rnd() % 100) / 100.0f;
        size_t per = nw / (size_t)cc->oc;
        for (size_t i = 0; i < per; i++)
            wt[(size_t)o * per + i] =
                cc->extreme ? mag * (0.9f + 0.1f * fabsf(urand())) : mag * urand();
        bias[o] = 0.3f * urand();
    }
    for (size_t i = 0; i < nx; i++)
        x[i] = cc->extreme ? (rnd() & 1 ? 2.0f : -2.0f) : 2.0f * urand();
    for (size_t i = 0; i < ny; i++)
        r[i] = urand();
    size_t size = 0;
    model = make_model(cc, wt, bias, &size);
    if (!model) {
        CHECK(0, "%s: cannot write the model", cc->what);
        goto done;
    }
    plan = oct_plan_new();
    const char *in_name = cc->relu_in ? "xr" : "x";
    int t = oct_plan_add_tensor(plan, in_name);
    plan->tensors[t].precision = OCT_PREC_INT8;
    plan->tensors[t].amax = 1.7; /* 2.0-range data: some codes saturate */
    plan->tensors[t].scale = (float)(1.7 / 127.0);
    if (cc->variant == VAR_ASYM) {
        plan->asymmetric = 1;
        plan->tensors[t].is_unsigned = 1;
        plan->tensors[t].min = -1.2;
        plan->tensors[t].max = 1.7;
        oct_asym_params_u8(-1.2, 1.7, &plan->tensors[t].scale, &plan->tensors[t].zero_point);
    }
    if (cc->variant == VAR_PER_TENSOR) plan->weights = OCT_WEIGHTS_PER_TENSOR;
    if (cc->variant == VAR_W4 || cc->variant == VAR_W6 || cc->variant == VAR_W7)
        plan->weight_bits = cc->variant == VAR_W4 ? 4 : cc->variant == VAR_W6 ? 6 : 7;
    int nd = oct_plan_add_node(plan, "conv", "Conv");
    plan->nodes[nd].precision = OCT_PREC_INT8;
    oct_tensor_view in[2] = {{OCT_FLOAT, 4, {cc->n, cc->c, cc->h, cc->w}, x},
                             {OCT_FLOAT, 4, {cc->n, cc->oc, oh, ow}, r}};
    int8_vs_sim_case c = {cc->what,
                          model,
                          size,
                          plan,
                          cc->residual ? 2 : 1,
                          in,
                          {cc->n, cc->oc, oh, ow},
                          cc->out_int8,
                          cc->variant == VAR_ASYM ? 0 : 1,
                          0.01};
    int8_vs_sim(&c);
done:
    oct_plan_free(plan);
    free(model);
    free(x);
    free(r);
    free(wt);
    free(bias);
}

int main(void) {
#ifndef OCT_HAVE_DNNL
    printf("SKIPPED: built without oneDNN, no INT8 kernels\n0 passed, 0 failed\n");
    return 77;
#else
    static const conv_case cases[] = {
        /* what                         n  c    h   w  oc  kh kw s  d  p  g    bias act      rin res
           out8 */
        {"1ch 3x3 pad1", 1, 1, 7, 7, 1, 3, 3, 1, 1, 1, 1, 1, ACT_NONE, 0, 0, 0, 0, 0},
        {"3ch->13 3x3 stride2 pad1 silu", 1, 3, 33, 33, 13, 3, 3, 2, 1, 1, 1, 1, ACT_SILU, 0, 0, 0,
         0, 0},
        {"13->127 1x1", 1, 13, 7, 7, 127, 1, 1, 1, 1, 0, 1, 1, ACT_NONE, 0, 0, 0, 0, 0},
        {"127->13 3x3 dil2 pad2 relu", 1, 127, 7, 7, 13, 3, 3, 1, 2, 2, 1, 1, ACT_RELU, 0, 0, 0, 0,
         0},
        {"13->3 5x5 no bias", 1, 13, 33, 33, 3, 5, 5, 1, 1, 2, 1, 0, ACT_NONE, 0, 0, 0, 0, 0},
        {"3->13 1x1 spatial 1", 1, 3, 1, 1, 13, 1, 1, 1, 1, 0, 1, 1, ACT_NONE, 0, 0, 0, 0, 0},
        {"127->127 3x3 spatial 1 pad1 clip", 1, 127, 1, 1, 127, 3, 3, 1, 1, 1, 1, 1, ACT_CLIP, 0, 0,
         0, 0, 0},
        {"depthwise 13 3x3 pad1", 1, 13, 33, 33, 13, 3, 3, 1, 1, 1, 13, 1, ACT_NONE, 0, 0, 0, 0, 0},
        {"depthwise 127 3x3 stride2 silu", 1, 127, 33, 33, 127, 3, 3, 2, 1, 1, 127, 1, ACT_SILU, 0,
         0, 0, 0, 0},
        {"depthwise 3 5x5 dil2 pad4 no bias", 1, 3, 7, 7, 3, 5, 5, 1, 2, 4, 3, 0, ACT_NONE, 0, 0, 0,
         0, 0},
        {"groups 4: 52->12 3x3", 1, 52, 7, 7, 12, 3, 3, 1, 1, 1, 4, 1, ACT_RELU, 0, 0, 0, 0, 0},
        {"groups 3: 3->3 (1 per group) 3x3 s2", 1, 3, 33, 33, 3, 3, 3, 2, 1, 0, 3, 1, ACT_NONE, 0,
         0, 0, 0, 0},
        {"groups 13: 13->26 3x3", 1, 13, 7, 7, 26, 3, 3, 1, 1, 1, 13, 1, ACT_SILU, 0, 0, 0, 0, 0},
        {"batch 2, 13->13 3x3 residual add", 2, 13, 7, 7, 13, 3, 3, 1, 1, 1, 1, 1, ACT_NONE, 0, 1,
         0, 0, 0},
        {"13->13 3x3 silu + residual", 1, 13, 33, 33, 13, 3, 3, 1, 1, 1, 1, 1, ACT_SILU, 0, 1, 0, 0,
         0},
        {"relu input (u8, 1 pass) 13->127 3x3", 1, 13, 33, 33, 127, 3, 3, 1, 1, 1, 1, 1, ACT_NONE,
         1, 0, 0, 0, 0},
        {"relu input depthwise 127 s2", 1, 127, 7, 7, 127, 3, 3, 2, 1, 1, 127, 1, ACT_RELU, 1, 0, 0,
         0, 0},
        {"relu input depthwise 32 112x112 clip", 1, 32, 112, 112, 32, 3, 3, 1, 1, 1, 32, 1,
         ACT_CLIP, 1, 0, 0, 0, 0},
        {"depthwise 32 112x112 clip", 1, 32, 112, 112, 32, 3, 3, 1, 1, 1, 32, 1, ACT_CLIP, 0, 0, 0,
         0, 0},
        {"relu input depthwise 32 56x56 s2", 1, 32, 56, 56, 32, 3, 3, 2, 1, 1, 32, 1, ACT_CLIP, 1,
         0, 0, 0, 0},
        {"extreme: depthwise 32 relu input", 1, 32, 33, 33, 32, 3, 3, 1, 1, 1, 32, 1, ACT_NONE, 1,
         0, 0, 1, 0},
        {"extreme: depthwise 32 signed input", 1, 32, 33, 33, 32, 3, 3, 1, 1, 1, 32, 1, ACT_NONE, 0,
         0, 0, 1, 0},
        {"extreme: 64->16 3x3 relu input", 1, 64, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, ACT_NONE, 1, 0, 0,
         1, 0},
        {"extreme: 64->16 3x3 signed input", 1, 64, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, ACT_NONE, 0, 0,
         0, 1, 0},
        {"extreme: 64->16 1x1 signed input", 1, 64, 7, 7, 16, 1, 1, 1, 1, 0, 1, 1, ACT_NONE, 0, 0,
         0, 1, 0},
        {"asymmetric uint8 input: simulated, no INT8 kernel", 1, 13, 7, 7, 13, 3, 3, 1, 1, 1, 1, 1,
         ACT_NONE, 0, 0, 0, 0, VAR_ASYM},
        {"per-tensor weights 13->127 3x3 silu", 1, 13, 33, 33, 127, 3, 3, 1, 1, 1, 1, 1, ACT_SILU,
         0, 0, 0, 0, VAR_PER_TENSOR},
        {"per-tensor weights, depthwise 13, int8 out", 1, 13, 33, 33, 13, 3, 3, 2, 1, 1, 13, 1,
         ACT_NONE, 1, 0, 1, 0, VAR_PER_TENSOR},
        {"4-bit weights 13->127 3x3 silu", 1, 13, 33, 33, 127, 3, 3, 1, 1, 1, 1, 1, ACT_SILU, 0, 0,
         0, 0, VAR_W4},
        {"4-bit weights, relu input depthwise 32", 1, 32, 33, 33, 32, 3, 3, 1, 1, 1, 32, 1,
         ACT_NONE, 1, 0, 0, 0, VAR_W4},
        {"6-bit weights 64->16 3x3, int8 out", 1, 64, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, ACT_NONE, 0, 0,
         1, 0, VAR_W6},
        /* 7 bits on a signed input: one s8 pass on doubled codes */
        {"7-bit weights 127->13 3x3 silu", 1, 127, 13, 13, 13, 3, 3, 1, 1, 1, 1, 1, ACT_SILU, 0, 0,
         0, 0, VAR_W7},
        {"7-bit weights 13->3 1x1 s2, int8 out", 1, 13, 33, 33, 3, 1, 1, 2, 1, 0, 1, 1, ACT_NONE, 0,
         0, 1, 0, VAR_W7},
        {"7-bit weights depthwise 13, extreme inputs", 1, 13, 7, 7, 13, 3, 3, 1, 1, 1, 13, 1,
         ACT_NONE, 0, 0, 0, 1, VAR_W7},
        {"7-bit weights grouped 12/3 1x1", 1, 12, 9, 9, 6, 1, 1, 1, 1, 0, 3, 1, ACT_NONE, 0, 0, 0,
         0, VAR_W7},
        {"relu input 1x1 no bias", 1, 3, 33, 33, 13, 1, 1, 1, 1, 0, 1, 0, ACT_SILU, 1, 0, 0, 0, 0},
        {"clip then clip (one eltwise kind twice)", 1, 13, 33, 33, 13, 3, 3, 1, 1, 1, 1, 1,
         ACT_CLIP2, 0, 0, 0, 0, 0},
        {"clip then clip, int8 output", 1, 13, 7, 7, 13, 3, 3, 1, 1, 1, 1, 1, ACT_CLIP2, 0, 0, 1, 0,
         0},
        {"int8 output 13->13 3x3", 1, 13, 33, 33, 13, 3, 3, 1, 1, 1, 1, 1, ACT_NONE, 0, 0, 1, 0, 0},
        {"int8 output after silu, 127->3", 1, 127, 7, 7, 3, 3, 3, 1, 1, 1, 1, 1, ACT_SILU, 0, 0, 1,
         0, 0},
        {"int8 output, relu input, depthwise", 1, 13, 33, 33, 13, 3, 3, 2, 1, 1, 13, 1, ACT_CLIP, 1,
         0, 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
    return check_summary();
#endif
}
