/*
 * octet post-training weight optimisation: cross-layer equalization, bias
 * correction and AdaRound (docs/ptq.md). Same conventions as octet.h.
 *
 * They change a model's weights, so their result is a model: an ONNX file
 * with the optimised float weights, which the plan then names (its
 * model.path and model.sha256). AdaRound's weights are exactly code * scale
 * of the plan's weight quantizer, so the simulation, the real INT8 kernels
 * and the Q/DQ export all read back the codes AdaRound chose.
 *
 * The order is fixed by what each method needs: CLE is data-free and
 * changes activation ranges, so it runs before calibration
 * (oct_ptq_equalize); AdaRound and bias correction need the plan's
 * activation scales, so they run after it (oct_ptq_optimize), layer by
 * layer in topological order, each layer seeing the already optimised and
 * quantized network upstream.
 */
#ifndef OCTET_PTQ_H
#define OCTET_PTQ_H

#include <stdint.h>

#include "octet/quant.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { OCT_PTQ_CLE = 1, OCT_PTQ_BIAS_CORRECTION = 2, OCT_PTQ_ADAROUND = 4 };

/* Parses a comma-separated list: cle, bias-correction (or bc), adaround. */
oct_status oct_ptq_parse(const char *list, unsigned *methods, oct_error *err);
/* "cle,bias-correction,adaround" order, into buf; returns buf. */
const char *oct_ptq_name(unsigned methods, char *buf, size_t n);

typedef struct oct_ptq_options {
    unsigned methods; /* OCT_PTQ_BIAS_CORRECTION | OCT_PTQ_ADAROUND (CLE is separate) */
    int images;       /* samples AdaRound and bias correction read (default 32) */
    int columns;      /* AdaRound: input columns sampled per layer (default 4096) */
    /* AdaRound, with the paper's (and AIMET's) defaults */
    int iters;                  /* 10000 */
    int batch;                  /* columns per step, 1024 */
    float reg_weight;           /* lambda, 0.01 */
    float beta_start, beta_end; /* 20 -> 2 */
    float warmup;               /* 0.2 */
    float lr;                   /* Adam, 1e-3 */
    uint64_t seed;
    /* One call per layer done (may be NULL). */
    void (*progress)(void *user, const char *layer, int done, int total);
    void *progress_user;
} oct_ptq_options;

void oct_ptq_options_init(oct_ptq_options *o);

/* What happened to one layer. */
typedef struct oct_ptq_layer {
    char *node; /* ONNX node name */
    char *op_type;
    int level; /* topological stage: layers of one level run together */
    int rows, k, groups;
    int columns;    /* AdaRound columns used */
    int adarounded; /* 1: AdaRound chose its codes */
    int bias_corrected;
    double mse_rtn;    /* reconstruction MSE with round-to-nearest codes */
    double mse_ada;    /* ... with AdaRound's (equal to mse_rtn when not run) */
    double bias_shift; /* mean |correction| added to the bias */
    double ms;         /* time spent on the layer */
    char *skipped;     /* why a method left it alone (NULL: nothing skipped) */
} oct_ptq_layer;

typedef struct oct_ptq_report {
    unsigned methods;
    int weight_bits;
    int n_layers;
    oct_ptq_layer *layers;
    int cle_pairs; /* pairs CLE equalized (0 when not run) */
    double cle_ms, collect_ms, adaround_ms, bias_ms, total_ms;
} oct_ptq_report;

void oct_ptq_report_free(oct_ptq_report *r);

/* Cross-layer equalization of the model file at model_path into out_path
 * (an ONNX file). The FP32 function is unchanged. *pairs (may be NULL) gets
 * the number of Conv pairs equalized. */
oct_status oct_ptq_equalize(const char *model_path, const char *out_path, int *pairs, double *ms,
                            oct_error *err);

/* AdaRound and/or bias correction of the INT8 Conv, Gemm and MatMul nodes of
 * `plan` (calibrated for the model at model_path), on samples 0..images-1
 * of fn. Writes the optimised model to out_path and points the plan at it
 * (model.path, model.sha256). *report (may be NULL) receives the per-layer
 * log (caller frees with oct_ptq_report_free). */
oct_status oct_ptq_optimize(const char *model_path, const oct_session_options *so, oct_plan *plan,
                            const oct_ptq_options *po, int count, oct_sample_fn fn, void *user,
                            const char *out_path, oct_ptq_report **report, oct_error *err);

/* Records what was done in the plan's "ptq" section (docs/plan-format.md):
 * the methods, CLE's pair count and time, and rep's per-layer log (rep may
 * be NULL: CLE alone). The analysis report shows it. */
oct_status oct_plan_set_ptq(oct_plan *plan, unsigned methods, const oct_ptq_report *rep,
                            int cle_pairs, double cle_ms, oct_error *err);

#ifdef __cplusplus
}
#endif

#endif
