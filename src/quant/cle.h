/* Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization
 * through Weight Equalization and Bias Correction", section 4.1).
 *
 * For Conv1 -> [Relu | LeakyRelu | PRelu | Clip | nothing] -> Conv2, output
 * channel i of Conv1 is divided by s_i = sqrt(r1_i / r2_i) and the matching
 * input channel of Conv2 multiplied by it (r = the channel's largest |weight|),
 * so both ranges become sqrt(r1_i r2_i) and per-tensor and per-channel int8
 * weights lose less. The activations commute with a positive per-channel
 * scale, except Clip, whose bounds become per-channel (lo / S_i, hi / S_i),
 * so the FP32 function is unchanged up to float rounding. Chains of pairs
 * are swept until the scales settle. Nothing is fused or folded: the result
 * is the same graph with new weights (and a Max/Min per rewritten Clip). */
#ifndef OCT_QUANT_CLE_H
#define OCT_QUANT_CLE_H

#include <stddef.h>

#include "core/error.h"

/* Why a Conv -> Conv pair was left alone. */
typedef enum oct_cle_skip_reason {
    OCT_CLE_SKIP_ACTIVATION = 0, /* the op between is not positively homogeneous */
    OCT_CLE_SKIP_FANOUT,         /* a tensor between is read elsewhere or a graph output */
    OCT_CLE_SKIP_WEIGHTS,        /* weights or bias not constant float32, or shared */
    OCT_CLE_SKIP_SHAPE,          /* not 2-D spatial, or channel counts disagree */
    OCT_CLE_SKIP_CLIP,           /* Clip bounds not constant scalars, or opset < 8 */
    OCT_CLE_SKIP_COUNT
} oct_cle_skip_reason;

const char *oct_cle_skip_reason_name(oct_cle_skip_reason r);

typedef struct oct_cle_pair {
    char *conv1, *conv2; /* node names */
    char *act;           /* op type between, "" for none */
    int channels;
    /* mean over channels of min(r1, r2) / max(r1, r2): 1 is equalized */
    double ratio_before, ratio_after;
} oct_cle_pair;

typedef struct oct_cle_skip {
    char *conv1, *conv2;
    oct_cle_skip_reason reason;
    char *detail; /* e.g. "Sigmoid", "weight 'w' is read by 2 nodes" */
} oct_cle_skip;

typedef struct oct_cle_report {
    int n_pairs;
    oct_cle_pair *pairs;
    int n_skipped;
    oct_cle_skip *skipped;
    int skipped_by_reason[OCT_CLE_SKIP_COUNT];
    int sweeps;
    double last_max_log_scale; /* largest |log s_i| of the last sweep */
    int clips_rewritten;
    double ms; /* wall time of the whole call */
} oct_cle_report;

/* Frees what the report holds (not the struct itself) and zeroes it. */
void oct_cle_report_free(oct_cle_report *r);

/* Equalizes the model file at model_path into the ONNX file out_path. rep
 * (may be NULL) receives the report; free it with oct_cle_report_free, also
 * after a failure. A model without eligible pairs is written unchanged. */
oct_status oct_cle_apply(const char *model_path, const char *out_path, oct_cle_report *rep,
                         oct_error *err);
/* Same from a model in memory (borrowed) into *bytes (malloc'ed, caller
 * frees), which oct_model_load_memory loads. */
oct_status oct_cle_apply_memory(const void *model, size_t size, void **bytes, size_t *len,
                                oct_cle_report *rep, oct_error *err);

#endif
