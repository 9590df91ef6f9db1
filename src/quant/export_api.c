/* Public Q/DQ export: the plan's model, re-read and rewritten (onnx_export.c). */
#include "octet/quant.h"
#include "onnx/onnx_export.h"
#include "runtime/runtime.h"

oct_status oct_export_qdq_onnx(const oct_model *m, const oct_plan *p, const oct_session_options *so,
                               const char *out_path, oct_error *err) {
    if (!m || !p || !out_path) return oct_fail(err, OCT_E_INVALID_ARG, "oct_export_qdq_onnx: NULL argument");
    if (!m->path)
        return oct_fail(err, OCT_E_INVALID_ARG, "the Q/DQ export re-reads the model file: load the model from a file");
    OCT_TRY(oct_plan_check(p, m, err));
    return oct_export_qdq(m->path, p, so ? so->n_shapes : 0, so ? so->shapes : NULL, out_path, err);
}
