/* Analysis internals shared by analyze.c, sensitivity.c and tune.c. The
 * analysis is a cJSON document (docs/analysis-json.md); the engine runs an
 * FP32 session and a simulated session of the same plan whose steps line up
 * value for value (sim.c keeps every plan tensor materialised in both). */
#ifndef OCT_QUANT_ANALYZE_H
#define OCT_QUANT_ANALYZE_H

#include <cjson/cJSON.h>

#include "octet/quant.h"
#include "quant/plan.h"
#include "runtime/runtime.h"

struct oct_analysis {
    cJSON *doc;
};

/* The samples of an analysis, decoded once and kept (inputs of the model). */
typedef struct oct_sample_cache {
    int n, n_inputs;
    oct_tensor_view *in; /* n * n_inputs views, data malloc'ed */
} oct_sample_cache;

/* Loads `count` samples through fn (skipping OCT_E_IO failures). */
oct_status oct_sample_cache_load(oct_sample_cache *c, int n_inputs, int count, oct_sample_fn fn, void *user,
                                 int *skipped, oct_error *err);
void oct_sample_cache_free(oct_sample_cache *c);
/* Sets sample i as the inputs of session s. */
oct_status oct_sample_cache_set(const oct_sample_cache *c, int i, oct_session *s, oct_error *err);

/* A plan copy with every tensor and node at precision p (scales kept). */
oct_plan *oct_plan_with_all(const oct_plan *plan, oct_precision p);

/* Signal-to-quantization-noise ratio in dB from the sums; INFINITY when the
 * error is zero. */
double oct_sqnr_db(double sum_ref2, double sum_err2);

/* Both sensitivity rankings (sensitivity.c), added to the document as
 * "sensitivity": only this tensor INT8 (everything else FP32), and all INT8
 * but this tensor, scored against FP32 on the network outputs (or what a
 * data-dependent selection such as TopK reads; sensitivity.c says how)
 * over the first n_images samples. Reruns only the steps downstream of the
 * changed tensor, from cached activations. only_ranking: the first ranking
 * only (what tune uses). task (may be NULL): the first ranking also scored
 * by this task metric, which then orders it (SQNR breaking ties). */
oct_status oct_sensitivity_run(const oct_model *m, const oct_session_options *so, const oct_plan *plan,
                               const oct_sample_cache *samples, int n_images, int only_ranking,
                               const oct_task_scorer *task, cJSON *doc,
                               void (*progress)(void *user, const char *phase, int done, int total),
                               void *progress_user, oct_error *err);

/* JSON helpers: a number, or "inf"/"-inf" strings, or null for NaN. */
cJSON *oct_json_num(double v);
void oct_json_add_num(cJSON *obj, const char *key, double v);

#endif
