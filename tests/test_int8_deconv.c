/* The INT8 ConvTranspose (oct_session_create_int8, the deconvolution branch
 * of src/backends/dnnl/dnnl_conv_int8.c) against the simulation on the
 * reference kernels, on small one-ConvTranspose ONNX models written here:
 * odd channel counts (1, 3, 13, 127), the decoder upsamplings (kernel 2
 * stride 2, kernel 4 stride 2 pad 1) and kernel 3 stride 2 with pads and
 * output_padding, dilation 2, groups and depthwise (weights per tensor
 * there, as the simulation quantizes them), with and without bias, a fused
 * activation, signed inputs (two u8 passes) and non-negative ones (Relu
 * before: one pass), float and INT8 outputs, per-tensor and 4-bit weights.
 *
 * The bound and the run are int8_test.h's (as for the Conv): a float output
 * within 1e-4 of its range of the simulation, an INT8 output's codes equal
 * for >= 99.9% of the elements and never more than one step apart; every
 * case also checks how many "dnnl:int8" kernels ran, so a fallback to the
 * simulated FP32 kernel cannot pass. The decline cases (output_shape, an
 * asymmetric uint8 input) expect none and must still match the simulation.
 * Prints "N passed, N failed"; exits 77 (skip) without oneDNN. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "int8_test.h"

enum { ACT_NONE, ACT_RELU, ACT_SILU };

/* VAR_ASYM: asymmetric uint8 input (declined); VAR_OUTPUT_SHAPE: the size
 * given by output_shape, which the oneDNN geometry does not take
 * (declined); VAR_PER_TENSOR: weights per tensor; VAR_W4: 4-bit weights. */
enum { VAR_NONE, VAR_ASYM, VAR_OUTPUT_SHAPE, VAR_PER_TENSOR, VAR_W4 };

typedef struct {
    const char *what;
    int64_t n, c, h, w, oc, k, stride, pad, out_pad, group, dil;
    int bias, act, relu_in, out_int8, variant;
} deconv_case;

static int64_t out_size(const deconv_case *dc, int64_t in) {
    return (in - 1) * dc->stride - 2 * dc->pad + (dc->k - 1) * dc->dil + 1 + dc->out_pad;
}

/* Tensors: "x" (graph input; with relu_in the ConvTranspose reads
 * "xr" = Relu(x)), weights "w" [C, OC/g, k, k], "b", output "y". */
static unsigned char *make_model(const deconv_case *dc, const float *wt, const float *bias,
                                 size_t *size) {
    buf g = {0}, a = {0};
    int64_t oh = out_size(dc, dc->h), ow = out_size(dc, dc->w);
    int64_t xd[4] = {dc->n, dc->c, dc->h, dc->w}, yd[4] = {dc->n, dc->oc, oh, ow};
    int64_t wd[4] = {dc->c, dc->oc / dc->group, dc->k, dc->k}, bd[1] = {dc->oc};
    const char *in_name = "x";
    if (dc->relu_in) {
        const char *in[1] = {"x"};
        node(&g, "relu_in", "Relu", 1, in, "xr", NULL);
        in_name = "xr";
    }
    const char *din[3] = {in_name, "w", "b"};
    int64_t st[2] = {dc->stride, dc->stride}, dl[2] = {dc->dil, dc->dil},
            pd[4] = {dc->pad, dc->pad, dc->pad, dc->pad}, op[2] = {dc->out_pad, dc->out_pad},
            os[2] = {oh, ow};
    attr_ints(&a, "strides", 2, st);
    attr_ints(&a, "dilations", 2, dl);
    attr_int(&a, "group", dc->group);
    if (dc->variant == VAR_OUTPUT_SHAPE) {
        attr_ints(&a, "output_shape", 2, os);
    } else {
        attr_ints(&a, "pads", 4, pd);
        if (dc->out_pad) attr_ints(&a, "output_padding", 2, op);
    }
    const char *cur = dc->act == ACT_NONE ? "y" : "deconv_out";
    node(&g, "deconv", "ConvTranspose", dc->bias ? 3 : 2, din, cur, &a);
    if (dc->act == ACT_RELU) {
        const char *in[1] = {cur};
        node(&g, "act", "Relu", 1, in, "y", NULL);
    } else if (dc->act == ACT_SILU) {
        const char *in1[1] = {cur};
        node(&g, "sig", "Sigmoid", 1, in1, "sig_out", NULL);
        const char *in2[2] = {cur, "sig_out"};
        node(&g, "act", "Mul", 2, in2, "y", NULL);
    }
    f_str(&g, 2, "int8_deconv_case");
    tensor_init(&g, "w", 4, wd, wt, (size_t)(wd[0] * wd[1] * wd[2] * wd[3]));
    if (dc->bias) tensor_init(&g, "b", 1, bd, bias, (size_t)dc->oc);
    value_info(&g, 11, "x", 4, xd);
    value_info(&g, 12, "y", 4, yd);
    free(a.p);
    return model_finish(&g, a.oom, size);
}

static void run_case(const deconv_case *dc) {
    int64_t oh = out_size(dc, dc->h), ow = out_size(dc, dc->w);
    int64_t ocg = dc->oc / dc->group, taps = dc->k * dc->k;
    size_t nx = (size_t)(dc->n * dc->c * dc->h * dc->w);
    size_t nw = (size_t)(dc->c * ocg * taps);
    float *x = malloc(nx * sizeof(float)), *wt = malloc(nw * sizeof(float));
    float *bias = malloc((size_t)dc->oc * sizeof(float)), *mag = malloc((size_t)dc->oc * 4);
    oct_plan *plan = NULL;
    unsigned char *model = NULL;
    if (!x || !wt || !bias || !mag) goto done;
    /* A different weight magnitude per output channel (gi * OC/g + j for
     * weight [i][j] of group gi), so per-channel scales differ and a
     * scale applied to the wrong channel shows. */
    for (int64_t o = 0; o < dc->oc; o++) {
        mag[o] = 0.05f + 0.5f * (float)(rnd() % 100) / 100.0f;
        bias[o] = 0.3f * urand();
    }
    for (int64_t i = 0; i < dc->c; i++)
        for (int64_t j = 0; j < ocg; j++)
            for (int64_t t = 0; t < taps; t++)
                wt[(i * ocg + j) * taps + t] = mag[i / (dc->c / dc->group) * ocg + j] * urand();
    for (size_t i = 0; i < nx; i++)
        x[i] = 2.0f * urand();
    size_t size = 0;
    model = make_model(dc, wt, bias, &size);
    if (!model) {
        CHECK(0, "%s: cannot write the model", dc->what);
        goto done;
    }
    plan = oct_plan_new();
    int t = oct_plan_add_tensor(plan, dc->relu_in ? "xr" : "x");
    plan->tensors[t].precision = OCT_PREC_INT8;
    plan->tensors[t].amax = 1.7; /* 2.0-range data: some codes saturate */
    plan->tensors[t].scale = (float)(1.7 / 127.0);
    if (dc->variant == VAR_ASYM) {
        plan->asymmetric = 1;
        plan->tensors[t].is_unsigned = 1;
        plan->tensors[t].min = -1.2;
        plan->tensors[t].max = 1.7;
        oct_asym_params_u8(-1.2, 1.7, &plan->tensors[t].scale, &plan->tensors[t].zero_point);
    }
    if (dc->variant == VAR_PER_TENSOR) plan->weights = OCT_WEIGHTS_PER_TENSOR;
    if (dc->variant == VAR_W4) plan->weight_bits = 4;
    int nd = oct_plan_add_node(plan, "deconv", "ConvTranspose");
    plan->nodes[nd].precision = OCT_PREC_INT8;
    oct_tensor_view in = {OCT_FLOAT, 4, {dc->n, dc->c, dc->h, dc->w}, x};
    int declined = dc->variant == VAR_ASYM || dc->variant == VAR_OUTPUT_SHAPE;
    int8_vs_sim_case c = {dc->what,     model,     size, plan, 1, &in, {dc->n, dc->oc, oh, ow},
                          dc->out_int8, !declined, 0.001};
    int8_vs_sim(&c);
done:
    oct_plan_free(plan);
    free(model);
    free(x);
    free(wt);
    free(bias);
    free(mag);
}

int main(void) {
#ifndef OCT_HAVE_DNNL
    printf("SKIPPED: built without oneDNN, no INT8 kernels\n0 passed, 0 failed\n");
    return 77;
#else
    static const deconv_case cases[] = {
        /* what                          n  c   h   w  oc  k  s  p op  g  d  bias act  rin out8 var
         */
        {"1->1 k2 s2", 1, 1, 9, 9, 1, 2, 2, 0, 0, 1, 1, 1, ACT_NONE, 0, 0, VAR_NONE},
        {"3->13 k2 s2", 1, 3, 17, 17, 13, 2, 2, 0, 0, 1, 1, 1, ACT_NONE, 0, 0, VAR_NONE},
        {"13->127 k2 s2 no bias", 1, 13, 9, 9, 127, 2, 2, 0, 0, 1, 1, 0, ACT_NONE, 0, 0, VAR_NONE},
        {"127->13 k2 s2 relu input", 1, 127, 9, 9, 13, 2, 2, 0, 0, 1, 1, 1, ACT_NONE, 1, 0,
         VAR_NONE},
        {"3->1 k3 s2 p1 op1", 1, 3, 17, 17, 1, 3, 2, 1, 1, 1, 1, 1, ACT_NONE, 0, 0, VAR_NONE},
        {"13->3 k3 s2 p1 op1 relu input", 1, 13, 17, 17, 3, 3, 2, 1, 1, 1, 1, 1, ACT_NONE, 1, 0,
         VAR_NONE},
        {"127->127 k3 s2 p1 op1 no bias", 1, 127, 7, 7, 127, 3, 2, 1, 1, 1, 1, 0, ACT_NONE, 0, 0,
         VAR_NONE},
        {"13->13 k4 s2 p1", 1, 13, 9, 9, 13, 4, 2, 1, 0, 1, 1, 1, ACT_NONE, 0, 0, VAR_NONE},
        {"3->127 k4 s2 p1 relu input no bias", 1, 3, 9, 9, 127, 4, 2, 1, 0, 1, 1, 0, ACT_NONE, 1, 0,
         VAR_NONE},
        {"batch 2, 13->3 k3 s1 p1", 2, 13, 9, 9, 3, 3, 1, 1, 0, 1, 1, 1, ACT_NONE, 0, 0, VAR_NONE},
        {"13->13 k3 s2 p1 op1 relu fused", 1, 13, 9, 9, 13, 3, 2, 1, 1, 1, 1, 1, ACT_RELU, 0, 0,
         VAR_NONE},
        {"13->13 k2 s2 silu fused", 1, 13, 9, 9, 13, 2, 2, 0, 0, 1, 1, 1, ACT_SILU, 1, 0, VAR_NONE},
        {"groups 3: 12->6 k3 s2 p1 op1", 1, 12, 9, 9, 6, 3, 2, 1, 1, 3, 1, 1, ACT_NONE, 0, 0,
         VAR_NONE},
        {"groups 3: 3->3 k2 s2 relu input", 1, 3, 17, 17, 3, 2, 2, 0, 0, 3, 1, 1, ACT_NONE, 1, 0,
         VAR_NONE},
        {"depthwise 13 k4 s2 p1", 1, 13, 9, 9, 13, 4, 2, 1, 0, 13, 1, 1, ACT_NONE, 0, 0, VAR_NONE},
        {"depthwise 127 k2 s2 no bias", 1, 127, 9, 9, 127, 2, 2, 0, 0, 127, 1, 0, ACT_NONE, 0, 0,
         VAR_NONE},
        {"int8 out 13->13 k2 s2", 1, 13, 17, 17, 13, 2, 2, 0, 0, 1, 1, 1, ACT_NONE, 0, 1, VAR_NONE},
        {"int8 out 3->13 k3 s2 p1 op1 relu input", 1, 3, 17, 17, 13, 3, 2, 1, 1, 1, 1, 1, ACT_NONE,
         1, 1, VAR_NONE},
        {"int8 out 127->3 k4 s2 p1 relu fused", 1, 127, 9, 9, 3, 4, 2, 1, 0, 1, 1, 1, ACT_RELU, 0,
         1, VAR_NONE},
        {"int8 out depthwise 13 k3 s2 p1 op1", 1, 13, 17, 17, 13, 3, 2, 1, 1, 13, 1, 0, ACT_NONE, 0,
         1, VAR_NONE},
        {"per-tensor weights 13->127 k2 s2", 1, 13, 9, 9, 127, 2, 2, 0, 0, 1, 1, 1, ACT_NONE, 0, 0,
         VAR_PER_TENSOR},
        {"4-bit weights 13->13 k3 s2 p1 op1", 1, 13, 9, 9, 13, 3, 2, 1, 1, 1, 1, 1, ACT_NONE, 0, 0,
         VAR_W4},
        {"dilation 2: 13->13 k3 s2 p2 op1", 1, 13, 9, 9, 13, 3, 2, 2, 1, 1, 2, 1, ACT_NONE, 0, 0,
         VAR_NONE},
        {"declined: output_shape 13->13 k3 s2", 1, 13, 9, 9, 13, 3, 2, 0, 0, 1, 1, 1, ACT_NONE, 0,
         0, VAR_OUTPUT_SHAPE},
        {"declined: asymmetric uint8 input", 1, 13, 9, 9, 13, 2, 2, 0, 0, 1, 1, 1, ACT_NONE, 0, 0,
         VAR_ASYM},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
    return check_summary();
#endif
}
