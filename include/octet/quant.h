/*
 * octet quantization API: calibration, plans, simulation, exports.
 * Same conventions as octet.h (statuses, oct_error, ownership).
 */
#ifndef OCTET_QUANT_H
#define OCTET_QUANT_H

#include <stdio.h>

#include "octet/octet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Precisions of plan tensors and nodes (oct_plan_counts indexes by them). */
typedef enum oct_precision {
    OCT_PREC_FP32 = 0,
    OCT_PREC_INT8 = 1,
    OCT_PREC_FP16 = 2,
    OCT_PREC_BF16 = 3
} oct_precision;

const char *oct_precision_name(oct_precision p);
/* Parses "fp32" / "int8" / "fp16" / "bf16"; returns -1 when unknown. */
int oct_precision_parse(const char *s);

/* A quantization plan (see docs/plan-format.md). Opaque here. */
typedef struct oct_plan oct_plan;

/* Loads / saves a plan file. The caller owns a loaded plan (oct_plan_free). */
oct_status oct_plan_load(const char *path, oct_plan **out, oct_error *err);
oct_status oct_plan_save(const oct_plan *p, const char *path, oct_error *err);
void oct_plan_free(oct_plan *p);
/* Checks that the plan was made for this model (sha256) and that every
 * tensor and node it names exists in the model. */
oct_status oct_plan_check(const oct_plan *p, const oct_model *m, oct_error *err);
/* Counts: tensors per precision (indexed by oct_precision: fp32, int8, fp16,
 * bf16) and nodes per precision. */
void oct_plan_counts(const oct_plan *p, int tensors[4], int nodes[4]);

/* Supplies calibration sample `index` (0 <= index < count): fills one view
 * per model input, with data malloc'ed by the callee (the library frees it
 * with oct_free). A non-OK status with err->status == OCT_E_IO skips the
 * sample (counted and reported); any other status stops calibration. */
typedef oct_status (*oct_sample_fn)(void *user, int index, oct_tensor_view *inputs, int n_inputs,
                                    oct_error *err);

typedef struct oct_calib_options {
    const char *method;     /* minmax | entropy | percentile[:P] | mse (default entropy) */
    const char *scheme;     /* all | compute (default compute) */
    int asymmetric;         /* 1: uint8 activations with zero points */
    int per_tensor_weights; /* 1: one weight scale per tensor */
    /* Width of the INT8 nodes' weights: 4, 6, 7 or 8 (0: 8). Symmetric signed
     * codes -qmax..qmax, qmax = 2^(bits-1) - 1, stored as int8, scale
     * max|W_c| / qmax; activations stay 8-bit. */
    int weight_bits;
    int streaming;          /* 1: one pass with re-binning (default: TensorRT's two passes) */
    const char *data_desc;  /* recorded in the plan: folder */
    const char *preprocess_desc; /* recorded in the plan */
    /* Progress (may be NULL): pass (1 or 2 of passes), samples done, total. */
    void (*progress)(void *user, int pass, int passes, int done, int total);
    void *progress_user;
} oct_calib_options;

void oct_calib_options_init(oct_calib_options *o);

/* Runs the model over `count` samples and returns a plan: statistics for
 * every floating-point activation tensor (keyed by its ONNX name), a
 * threshold from the chosen calibrator, precisions from the scheme. The
 * session options fix input shapes and threads. Memory stays bounded by the
 * histograms and one sample's activations. *skipped counts unusable samples. */
oct_status oct_calibrate_model(const oct_model *m, const oct_session_options *so, const oct_calib_options *co,
                               int count, oct_sample_fn fn, void *user, oct_plan **out, int *skipped,
                               oct_error *err);

/* A session that runs the model as the plan says, simulated: every INT8
 * tensor is fake-quantized where it is produced, clamp(round_half_even(x/s),
 * -128, 127) * s (weights per output channel, once, to the plan's
 * weight_bits); FP16/BF16 tensors and weights are rounded to that format.
 * The plan is only read during the call. */
oct_status oct_session_create_simulated(const oct_model *m, const oct_session_options *so, const oct_plan *plan,
                                        oct_session **out, oct_error *err);

/* ---- analysis ----------------------------------------------------------
 * FP32 and the plan (simulated) side by side on the same samples: per
 * tensor SQNR, cosine, errors, the tensor's own quantization error,
 * saturation and zeroed rates, each calibrator's threshold on these data;
 * optionally the two sensitivity rankings; then the diagnosis rules. The
 * result is one JSON document (docs/analysis-json.md). */
typedef struct oct_analysis oct_analysis;

typedef struct oct_analyze_options {
    int sensitivity;       /* 1: compute both sensitivity rankings */
    int sens_images;       /* samples the rankings use (default 4) */
    /* The "only" ranking also by this task metric (may be NULL; not owned;
     * the type is below, with tuning). */
    const struct oct_task_scorer *task;
    const char *plan_desc; /* recorded: the plan's file */
    const char *data_desc; /* recorded: the data folder */
    /* Progress (may be NULL): phase ("analyze", "sensitivity"), done, total. */
    void (*progress)(void *user, const char *phase, int done, int total);
    void *progress_user;
} oct_analyze_options;

void oct_analyze_options_init(oct_analyze_options *o);

/* Runs the analysis over `count` samples. The caller owns *out
 * (oct_analysis_free). *skipped (may be NULL) counts unusable samples. */
oct_status oct_analyze(const oct_model *m, const oct_session_options *so, const oct_plan *plan,
                       const oct_analyze_options *ao, int count, oct_sample_fn fn, void *user,
                       oct_analysis **out, int *skipped, oct_error *err);
/* The document as JSON text (malloc'ed; free with oct_free). */
char *oct_analysis_json(const oct_analysis *a);
/* The self-contained HTML report of the document. */
oct_status oct_analysis_write_html(const oct_analysis *a, const char *path, oct_error *err);
/* A concise console summary: outputs, worst tensors, diagnoses. */
void oct_analysis_print(const oct_analysis *a, FILE *f);
void oct_analysis_free(oct_analysis *a);

/* ---- tuning --------------------------------------------------------------
 * The smallest mixed-precision plan that meets an accuracy target: the
 * tensors the diagnosis' errors name come first, then the sensitivity
 * ranking (the error of only this tensor in INT8, per share of the FLOPs
 * keeping it out of INT8 would cost) orders the other INT8 tensors; the
 * first are kept in the fallback precision, a growing prefix until
 * the target holds, bisected to the shortest such prefix; then each kept
 * tensor is tried back in INT8 and stays there where the target still holds.
 * A tensor kept out of INT8 takes its consumer nodes with it. */
typedef struct oct_target {
    char metric[32]; /* e.g. map50_95, map50, top1, top5, sqnr */
    int strict;      /* '>' rather than '>=' */
    double value;    /* the bound, or a factor of the FP32 metric */
    int relative;    /* value * fp32 */
} oct_target;

/* Parses "map50_95>=0.99*fp32", "top1>=0.995*fp32", "sqnr>=30", "map50>fp32". */
oct_status oct_target_parse(const char *expr, oct_target *t, oct_error *err);

/* A task metric for the sensitivity ranking, computed from a session's
 * outputs: begin once with the number of configurations, then observe after
 * the FP32 run of each sample (config -1) and after each configuration's
 * run of that sample (config 0..n-1), then result per configuration:
 * metric[0] the task metric, metric[1] a finer continuous measure that
 * breaks its ties (NAN when there is none); higher is better for both.
 * The session is only valid during the call.
 * oct_eval_task_scorer_create (octet/eval.h) makes the label-free
 * detection and classification scorers. */
typedef struct oct_task_scorer {
    oct_status (*begin)(void *user, int n_configs, oct_error *err);
    oct_status (*observe)(void *user, int config, int sample, const oct_session *s, oct_error *err);
    oct_status (*result)(void *user, int config, double metric[2], oct_error *err);
    void *user;
    const char *name;      /* recorded in the ranking, e.g. "label-free map50_95" */
    const char *fine_name; /* what metric[1] is, or NULL */
} oct_task_scorer;

/* Scores a plan by the target's metric (plan NULL: the FP32 model). */
typedef oct_status (*oct_plan_metric_fn)(void *user, const oct_plan *plan, double *metric, oct_error *err);

typedef struct oct_tune_options {
    oct_target target;
    const char *target_desc; /* recorded, e.g. the expression */
    int fallback;            /* oct_precision of kept tensors and nodes (default fp16) */
    int sens_images;         /* samples the sensitivity ranking uses (default 8) */
    /* Ranks by this task metric first (the SQNR breaks ties; may be NULL:
     * the SQNR alone). Not owned. */
    const oct_task_scorer *task;
    int max_evals;           /* metric evaluations allowed (default 24) */
    int report_images;       /* samples the final analysis uses (default 16; 0: none) */
    /* Called with one line per step (may be NULL). */
    void (*log)(void *user, const char *line);
    void *log_user;
    void (*progress)(void *user, const char *phase, int done, int total);
    void *progress_user;
} oct_tune_options;

void oct_tune_options_init(oct_tune_options *o);

/* Tunes `base` (a calibrated plan). *out is the best plan found (caller
 * owns it) and *met tells whether it meets the target; *report (may be
 * NULL) the analysis document of that plan with the "tune" section. */
oct_status oct_tune(const oct_model *m, const oct_session_options *so, const oct_plan *base,
                    const oct_tune_options *to, int count, oct_sample_fn fn, void *user, oct_plan_metric_fn metric,
                    void *metric_user, oct_plan **out, int *met, oct_analysis **report, oct_error *err);

/* A session that runs the plan with real INT8 kernels where they apply, and
 * everything else exactly as oct_session_create_simulated does, so its
 * outputs equal the simulation's up to float rounding (and, where rounding
 * moves a value across a quantization boundary, one step of that tensor).
 * Today: Conv nodes whose plan precision is int8, whose activation input is
 * a symmetric int8 tensor of the plan and whose weights are constant run on
 * oneDNN's INT8 convolution (int32 accumulation, output scale s_x * s_w[oc],
 * the same fused post-ops as the FP32 path), and likewise MatMul (A
 * [.., M, K] x a constant 2-D B) and Gemm (transA 0, alpha 1, a constant B,
 * an optional constant bias row C with beta 1) on oneDNN's INT8 matmul
 * (output scale s_x * s_w[n]). Other nodes, and every node when oneDNN is
 * absent or declines, run as in the simulation. With verbose, the INT8
 * kernels show as "dnnl:int8:IMPL" (IMPL: oneDNN's implementation, e.g.
 * "jit_uni_int8:avx2" or "gemm:jit", then ":pn" when a signed input runs as
 * two unsigned passes, see src/backends/dnnl/dnnl_conv_int8.c and
 * dnnl_matmul_int8.c).
 * Asymmetric (uint8) inputs are not taken. Same ownership as
 * oct_session_create (free with oct_session_free); the plan is only read
 * during the call. */
oct_status oct_session_create_int8(const oct_model *m, const oct_session_options *so, const oct_plan *plan,
                                   oct_session **out, oct_error *err);
/* Number of the session's kernels that run in INT8 (0 for NULL). */
int oct_session_int8_kernels(const oct_session *s);

/* Exports. */
/* TensorRT calibration cache: version e.g. 8601, algorithm e.g.
 * "EntropyCalibration2" (NULL: these defaults). */
oct_status oct_export_trt_cache(const oct_plan *p, const char *path, int64_t version, const char *algorithm,
                                oct_error *err);
/* Reads a TensorRT cache into a plan for the model (every listed tensor int8). */
oct_status oct_import_trt_cache(const oct_model *m, const char *path, oct_plan **out, oct_error *err);
/* trtexec flags for the nodes the plan keeps out of INT8:
 * "--layerPrecisions=a:fp16,b:fp32 --precisionConstraints=obey" (malloc'ed). */
oct_status oct_export_trtexec_flags(const oct_plan *p, char **out, oct_error *err);
/* Q/DQ ONNX (opset >= 13) of the model with the plan's INT8 tensors and
 * weights; shapes fix dynamic inputs where the export needs shapes. */
oct_status oct_export_qdq_onnx(const oct_model *m, const oct_plan *p, const oct_session_options *so,
                               const char *out_path, oct_error *err);

#ifdef __cplusplus
}
#endif
#endif
