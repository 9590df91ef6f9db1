/* The console summary of an analysis: the network outputs, the worst INT8
 * tensors, the sensitivity rankings' heads and the diagnoses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/report_html.h"
#include "quant/analyze.h"
#include "quant/diagnose.h"

static double num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(v)) return v->valuedouble;
    if (cJSON_IsString(v) && !strcmp(v->valuestring, "inf")) return INFINITY;
    return NAN;
}

static const char *str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

typedef struct worst {
    double db;
    const cJSON *t;
} worst;

static int cmp_worst(const void *a, const void *b) {
    const worst *x = a, *y = b;
    return x->db < y->db ? -1 : x->db > y->db;
}

static void print_ranking(FILE *f, const cJSON *sens, const char *key, const char *title) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(sens, key);
    if (!cJSON_IsArray(arr)) return;
    const char *task = str(sens, "task"), *fine = str(sens, "task_fine");
    if (*task && *fine && !strcmp(key, "only"))
        fprintf(f, "most sensitive (only this tensor INT8; by %s, then %s, then output SQNR):\n", fine, task);
    else if (*task && !strcmp(key, "only"))
        fprintf(f, "most sensitive (only this tensor INT8; by %s, then output SQNR):\n", task);
    else
        fprintf(f, "%s\n", title);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (i++ == 5) break;
        if (cJSON_GetObjectItemCaseSensitive(e, "task_fine"))
            fprintf(f, "  %.4f %.4f %7.1f dB  %s\n", num(e, "task_fine"), num(e, "task"), num(e, "score"),
                    str(e, "tensor"));
        else if (cJSON_GetObjectItemCaseSensitive(e, "task"))
            fprintf(f, "  %.4f %7.1f dB  %s\n", num(e, "task"), num(e, "score"), str(e, "tensor"));
        else
            fprintf(f, "  %7.1f dB  %s\n", num(e, "score"), str(e, "tensor"));
    }
}

void oct_analysis_print(const oct_analysis *a, FILE *f) {
    if (!a || !a->doc) return;
    const cJSON *doc = a->doc, *sum = cJSON_GetObjectItemCaseSensitive(doc, "summary");
    fprintf(f, "analysis of %s under %s (%s, scheme %s), %d images\n", str(doc, "model"), str(doc, "plan"),
            str(doc, "plan_method"), str(doc, "plan_scheme"), (int)num(doc, "images"));
    fprintf(f, "  %d int8 / %d float tensors; %.1f%% of %.3g FLOPs outside INT8\n", (int)num(sum, "int8_tensors"),
            (int)num(sum, "float_tensors"), 100.0 * num(sum, "flops_outside_int8") / num(sum, "flops_total"),
            num(sum, "flops_total"));
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(sum, "outputs")) {
        fprintf(f, "  output %-16s SQNR %6.1f dB  cosine %.4f  rel L2 %.3g  max err %.3g  zeroed %.1f%%\n",
                str(o, "name"), num(o, "sqnr_db"), num(o, "cosine"), num(o, "rel_l2"), num(o, "max_abs_err"),
                100 * num(o, "zeroed_rate"));
    }
    const cJSON *tensors = cJSON_GetObjectItemCaseSensitive(doc, "tensors");
    int n = cJSON_GetArraySize(tensors), k = 0;
    worst *w = calloc((size_t)n + 1, sizeof *w);
    if (w) {
        cJSON_ArrayForEach(o, tensors) {
            if (strcmp(str(o, "precision"), "int8")) continue;
            w[k].db = num(o, "own_sqnr_db");
            w[k].t = o;
            if (!isnan(w[k].db)) k++;
        }
        qsort(w, (size_t)k, sizeof *w, cmp_worst);
        if (k) fprintf(f, "worst INT8 tensors by their own quantization (SQNR of quantizing the exact FP32 value):\n");
        for (int i = 0; i < k && i < 8; i++)
            fprintf(f, "  %6.1f dB own, %6.1f dB in the run  sat %5.2f%%  zeroed %5.1f%%  %s (%s)\n", w[i].db,
                    num(w[i].t, "sqnr_db"), 100 * num(w[i].t, "saturation_rate"), 100 * num(w[i].t, "zeroed_rate"),
                    str(w[i].t, "name"), str(w[i].t, "producer_op"));
        free(w);
    }
    const cJSON *ptq = cJSON_GetObjectItemCaseSensitive(doc, "ptq");
    if (ptq) {
        int nl = 0, ada = 0, bc = 0;
        double before = 0, after = 0;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(ptq, "layers")) {
            nl++;
            int is_ada = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "adaround"));
            ada += is_ada;
            bc += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "bias_corrected"));
            if (is_ada) before += num(o, "mse_rtn"), after += num(o, "mse_after");
        }
        fprintf(f, "weights optimised by %s (%d-bit): %d layers, AdaRound on %d (reconstruction MSE %.4g -> %.4g, "
                   "summed), bias corrected %d",
                str(ptq, "methods"), (int)num(ptq, "weight_bits"), nl, ada, before, after, bc);
        if (cJSON_GetObjectItemCaseSensitive(ptq, "cle_pairs")) fprintf(f, ", CLE pairs %d", (int)num(ptq, "cle_pairs"));
        fprintf(f, "\n");
    }
    const cJSON *sens = cJSON_GetObjectItemCaseSensitive(doc, "sensitivity");
    if (sens) {
        print_ranking(f, sens, "only", "most sensitive (only this tensor INT8; output SQNR):");
        print_ranking(f, sens, "except", "biggest gain kept out of INT8 (all INT8 but this tensor; output SQNR):");
    }
    oct_diagnose_print(doc, f);
}

oct_status oct_analysis_write_html(const oct_analysis *a, const char *path, oct_error *err) {
    if (!a || !a->doc) return oct_fail(err, OCT_E_INVALID_ARG, "oct_analysis_write_html: no analysis");
    return oct_report_html_write(a->doc, path, err);
}
