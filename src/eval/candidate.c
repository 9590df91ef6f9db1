/* The session an evaluation scores: the FP32 model, or the model under a
 * quantization plan: real INT8 kernels where they apply
 * (oct_session_create_int8), or, with `simulate`, fake quantization in FP32
 * throughout. */
#include <stddef.h>

#include "core/error.h"
#include "octet/eval.h"
#include "octet/quant.h"

oct_status oct_eval_open_candidate(const oct_model *m, const char *plan_path, int simulate,
                                   const oct_session_options *opt, oct_session **out,
                                   oct_error *err) {
    if (!m || !out)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_eval_open_candidate: NULL argument");
    *out = NULL;
    if (!plan_path) return oct_session_create(m, opt, out, err);
    oct_plan *p = NULL;
    oct_status st = oct_plan_load(plan_path, &p, err);
    /* The session keeps what it needs from the plan. */
    if (!st)
        st = simulate ? oct_session_create_simulated(m, opt, p, out, err) : oct_session_create_int8(m, opt, p, out, err);
    oct_plan_free(p);
    if (st) oct_error_prefix(err, "plan '%s': ", plan_path);
    return st;
}
