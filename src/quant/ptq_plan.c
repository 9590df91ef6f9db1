/* The plan's "ptq" section: what AdaRound, bias correction and CLE did,
 * kept as JSON text in the plan (docs/plan-format.md). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "octet/ptq.h"
#include "quant/plan.h"

static void num(cJSON *o, const char *k, double v) {
    cJSON_AddNumberToObject(o, k, isfinite(v) ? v : 0.0);
}

oct_status oct_plan_set_ptq(oct_plan *plan, unsigned methods, const oct_ptq_report *rep,
                            int cle_pairs, double cle_ms, oct_error *err) {
    if (!plan) return oct_fail(err, OCT_E_INVALID_ARG, "oct_plan_set_ptq: NULL plan");
    char names[64];
    cJSON *o = cJSON_CreateObject();
    if (!o) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    cJSON_AddStringToObject(o, "methods", oct_ptq_name(methods, names, sizeof names));
    num(o, "weight_bits", oct_plan_weight_bits(plan));
    if (methods & OCT_PTQ_CLE) {
        num(o, "cle_pairs", cle_pairs);
        num(o, "cle_ms", cle_ms);
    }
    if (rep) {
        num(o, "collect_ms", rep->collect_ms);
        num(o, "adaround_ms", rep->adaround_ms);
        num(o, "bias_correction_ms", rep->bias_ms);
        num(o, "total_ms", rep->total_ms);
        cJSON *layers = cJSON_AddArrayToObject(o, "layers");
        for (int i = 0; layers && i < rep->n_layers; i++) {
            const oct_ptq_layer *L = &rep->layers[i];
            cJSON *l = cJSON_CreateObject();
            if (!l) break;
            cJSON_AddStringToObject(l, "node", L->node ? L->node : "");
            cJSON_AddStringToObject(l, "op", L->op_type ? L->op_type : "");
            num(l, "level", L->level);
            num(l, "rows", L->rows);
            num(l, "k", L->k);
            num(l, "groups", L->groups);
            num(l, "columns", L->columns);
            cJSON_AddBoolToObject(l, "adaround", L->adarounded);
            cJSON_AddBoolToObject(l, "bias_corrected", L->bias_corrected);
            num(l, "mse_rtn", L->mse_rtn);
            num(l, "mse_after", L->mse_ada);
            num(l, "bias_shift", L->bias_shift);
            num(l, "ms", L->ms);
            if (L->skipped) cJSON_AddStringToObject(l, "note", L->skipped);
            cJSON_AddItemToArray(layers, l);
        }
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    free(plan->ptq_json);
    plan->ptq_json = strdup(text);
    cJSON_free(text);
    return plan->ptq_json ? OCT_OK : oct_fail(err, OCT_E_NOMEM, "out of memory");
}
