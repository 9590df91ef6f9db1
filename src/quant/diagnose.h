/* Diagnosis rules: read an analysis document (docs/analysis-json.md, written
 * by `octet analyze`) and explain in plain language why the INT8 model
 * breaks: one object per finding with the numbers behind it, a fix and the
 * nodes to keep out of INT8. */
#ifndef OCT_QUANT_DIAGNOSE_H
#define OCT_QUANT_DIAGNOSE_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "core/error.h"

/* Runs every rule over `analysis` (a JSON object) and stores the findings
 * as its "diagnoses" array (replacing any there): objects {rule, severity,
 * tensor, nodes, message, numbers, fix, fallback}, the most severe first and,
 * within a severity, the largest impact first. Missing or malformed fields
 * make the rules that need them stay silent; they are not errors. Fails
 * only on a NULL or non-object document (OCT_E_INVALID_ARG) or when memory
 * runs out (OCT_E_NOMEM; the document is then left without diagnoses). */
oct_status oct_diagnose(cJSON *analysis, oct_error *err);

/* A console summary of analysis["diagnoses"]: one or two lines per finding,
 * the most severe first, at most OCT_DIAGNOSE_PRINT_MAX of them. */
#define OCT_DIAGNOSE_PRINT_MAX 12
void oct_diagnose_print(const cJSON *analysis, FILE *f);

#endif
