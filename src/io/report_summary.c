/* The HTML report's summary section: the run, the metric, the outputs, the
 * precision counts and the tuning result. */
#include <math.h>
#include <string.h>

#include "io/report_internal.h"

#define P oct_rep_puts
#define PF oct_rep_printf
#define E oct_rep_esc

static void kv_row(oct_rep_buf *b, const char *k, const cJSON *item, oct_rep_style st) {
    PF(b, "<tr><th>%s</th><td>", k);
    if (cJSON_IsString(item) && oct_rep_num(item, NULL) == OCT_REP_NONE)
        E(b, item->valuestring);
    else
        oct_rep_item(b, item, st);
    P(b, "</td></tr>\n");
}

static void tile(oct_rep_buf *b, const char *k, const cJSON *item, oct_rep_style st,
                 const char *unit) {
    PF(b, "<div class=\"tile\"><div class=\"k\">%s</div><div class=\"v\">", k);
    oct_rep_item(b, item, st);
    if (unit && oct_rep_num(item, NULL) == OCT_REP_FINITE) P(b, unit);
    P(b, "</div></div>\n");
}

/* The share of FLOPs outside INT8: a value above 1 is a FLOP count (divided by
 * the total when known), one in [0, 1] already a share. */
static void flops_share(oct_rep_buf *b, const cJSON *item, double total, int total_known) {
    double v;
    oct_rep_kind k = oct_rep_num(item, &v);
    if (k == OCT_REP_FINITE && v > 1) {
        if (total_known && total > 0)
            oct_rep_val(b, k, v / total, OCT_FMT_PCT);
        else
            oct_rep_val(b, k, v, OCT_FMT_FLOPS);
        return;
    }
    oct_rep_val(b, k, v, OCT_FMT_PCT);
}

static const char *metric_label(const char *m) {
    if (!m) return "metric";
    if (!strcmp(m, "sqnr_db")) return "SQNR of the outputs (dB)";
    if (!strcmp(m, "map50_95")) return "mAP@.50:.95";
    if (!strcmp(m, "map50")) return "mAP@.50";
    if (!strcmp(m, "top1")) return "top-1 accuracy";
    if (!strcmp(m, "top5")) return "top-5 accuracy";
    return NULL;
}

/* ---- summary ----------------------------------------------------------- */
static void run_table(oct_rep_buf *b, const cJSON *doc) {
    P(b, "<table class=\"kv\">\n");
    kv_row(b, "Model", oct_rep_get(doc, "model"), OCT_FMT_G);
    kv_row(b, "Plan", oct_rep_get(doc, "plan"), OCT_FMT_G);
    kv_row(b, "Images", oct_rep_get(doc, "images"), OCT_FMT_INT);
    kv_row(b, "Data", oct_rep_get(doc, "data"), OCT_FMT_G);
    kv_row(b, "Calibration method", oct_rep_get(doc, "plan_method"), OCT_FMT_G);
    kv_row(b, "Scheme", oct_rep_get(doc, "plan_scheme"), OCT_FMT_G);
    kv_row(b, "Weights", oct_rep_get(doc, "weights"), OCT_FMT_G);
    kv_row(b, "Analysis time", oct_rep_get(doc, "seconds"), OCT_FMT_SEC);
    P(b, "</table>\n");
}

static void metric_tiles(oct_rep_buf *b, const cJSON *s) {
    const char *metric = oct_rep_str(s, "metric");
    const char *label = metric_label(metric);
    P(b, "<h3>");
    if (label)
        P(b, label);
    else
        E(b, metric);
    P(b, "</h3>\n<div class=\"tiles\">\n");
    int db = metric && !strcmp(metric, "sqnr_db");
    oct_rep_style st = db ? OCT_FMT_DB : OCT_FMT_FIX4;
    tile(b, "FP32", oct_rep_get(s, "fp32"), st, db ? " dB" : NULL);
    tile(b, "plan", oct_rep_get(s, "plan"), st, db ? " dB" : NULL);
    double f, q;
    if (oct_rep_numk(s, "fp32", &f) == OCT_REP_FINITE &&
        oct_rep_numk(s, "plan", &q) == OCT_REP_FINITE && f > 0 && !db) {
        P(b, "<div class=\"tile\"><div class=\"k\">plan / FP32</div><div class=\"v\">");
        oct_rep_val(b, OCT_REP_FINITE, q / f, OCT_FMT_PCT);
        P(b, "</div></div>\n");
    }
    const cJSON *lat = oct_rep_get(s, "latency_ms");
    if (cJSON_IsObject(lat)) {
        tile(b, "latency FP32", oct_rep_get(lat, "fp32"), OCT_FMT_G, " ms");
        tile(b, "latency plan", oct_rep_get(lat, "plan"), OCT_FMT_G, " ms");
        if (oct_rep_numk(lat, "fp32", &f) == OCT_REP_FINITE &&
            oct_rep_numk(lat, "plan", &q) == OCT_REP_FINITE && q > 0 && isfinite(f / q))
            PF(b,
               "<div class=\"tile\"><div class=\"k\">speed-up</div>"
               "<div class=\"v\">%.2f&times;</div></div>\n",
               f / q);
    }
    P(b, "</div>\n");
}

static void outputs_table(oct_rep_buf *b, const cJSON *s) {
    P(b, "<h3>Outputs</h3>\n");
    const cJSON *outs = oct_rep_get(s, "outputs");
    if (oct_rep_len(outs)) {
        P(b, "<table><thead><tr><th>output</th><th class=\"n\">SQNR (dB)</th>"
             "<th class=\"n\">cosine</th><th class=\"n\">rel L2</th>"
             "<th class=\"n\">max abs err</th><th class=\"n\">zeroed</th></tr></thead><tbody>\n");
        const cJSON *o;
        OCT_REP_EACH(o, outs) {
            double v;
            int bad = oct_rep_numk(o, "sqnr_db", &v) == OCT_REP_FINITE && v < 20;
            P(b, bad ? "<tr class=\"bad\">" : "<tr>");
            oct_rep_td_text(b, oct_rep_str(o, "name"), "name");
            oct_rep_td_num(b, oct_rep_get(o, "sqnr_db"), OCT_FMT_DB, "q");
            oct_rep_td_num(b, oct_rep_get(o, "cosine"), OCT_FMT_FIX4, NULL);
            oct_rep_td_num(b, oct_rep_get(o, "rel_l2"), OCT_FMT_G, NULL);
            oct_rep_td_num(b, oct_rep_get(o, "max_abs_err"), OCT_FMT_G, NULL);
            oct_rep_td_num(b, oct_rep_get(o, "zeroed_rate"), OCT_FMT_PCT, NULL);
            P(b, "</tr>\n");
        }
        P(b, "</tbody></table>\n");
    } else {
        P(b, "<p class=\"none\">No outputs listed.</p>\n");
    }
}

static void precision_table(oct_rep_buf *b, const cJSON *s) {
    P(b, "<table class=\"kv\">\n");
    kv_row(b, "INT8 tensors", oct_rep_get(s, "int8_tensors"), OCT_FMT_INT);
    kv_row(b, "Float tensors", oct_rep_get(s, "float_tensors"), OCT_FMT_INT);
    kv_row(b, "INT8 nodes", oct_rep_get(s, "int8_nodes"), OCT_FMT_INT);
    kv_row(b, "Float nodes", oct_rep_get(s, "float_nodes"), OCT_FMT_INT);
    kv_row(b, "FLOPs", oct_rep_get(s, "flops_total"), OCT_FMT_FLOPS);
    double tot, out;
    int tk = oct_rep_numk(s, "flops_total", &tot) == OCT_REP_FINITE;
    P(b, "<tr><th>FLOPs outside INT8</th><td>");
    if (oct_rep_numk(s, "flops_outside_int8", &out) == OCT_REP_FINITE) {
        oct_rep_val(b, OCT_REP_FINITE, out, OCT_FMT_FLOPS);
        if (tk && tot > 0) {
            P(b, " (");
            oct_rep_val(b, OCT_REP_FINITE, out / tot, OCT_FMT_PCT);
            P(b, " of all)");
        }
    } else {
        P(b, "&mdash;");
    }
    P(b, "</td></tr>\n</table>\n");
}

static void summary_tune(oct_rep_buf *b, const cJSON *tune, double total, int total_known) {
    P(b, "<h3>Tuning</h3>\n<div class=\"cols\"><div><table class=\"kv\">\n");
    kv_row(b, "Target", oct_rep_get(tune, "target"), OCT_FMT_G);
    const cJSON *met = oct_rep_get(tune, "met");
    P(b, "<tr><th>Result</th><td>");
    if (cJSON_IsBool(met))
        P(b, cJSON_IsTrue(met) ? "<span class=\"badge ok\">target met</span>"
                               : "<span class=\"badge fail\">target not met</span>");
    else
        P(b, "&mdash;");
    P(b, "</td></tr>\n");
    kv_row(b, "Fallback precision", oct_rep_get(tune, "fallback_precision"), OCT_FMT_G);
    P(b, "<tr><th>Fallback nodes</th><td>");
    PF(b, "%d", oct_rep_len(oct_rep_get(tune, "fallback_nodes")));
    P(b, "</td></tr>\n<tr><th>FLOPs outside INT8</th><td>");
    flops_share(b, oct_rep_get(tune, "flops_outside_int8"), total, total_known);
    P(b, "</td></tr>\n</table></div><div>\n");
    const cJSON *steps = oct_rep_get(tune, "steps");
    if (oct_rep_len(steps)) {
        P(b, "<table class=\"steps\"><thead><tr><th>step</th><th class=\"n\">metric</th>"
             "<th class=\"n\">fallback nodes</th><th class=\"n\">FLOPs outside INT8</th>"
             "</tr></thead><tbody>\n");
        const cJSON *s;
        OCT_REP_EACH(s, steps) {
            P(b, "<tr>");
            oct_rep_td_text(b, oct_rep_str(s, "step"), NULL);
            oct_rep_td_num(b, oct_rep_get(s, "metric"), OCT_FMT_G, NULL);
            oct_rep_td_num(b, oct_rep_get(s, "fallback_nodes"), OCT_FMT_INT, NULL);
            P(b, "<td class=\"n\">");
            flops_share(b, oct_rep_get(s, "flops_outside_int8"), total, total_known);
            P(b, "</td></tr>\n");
        }
        P(b, "</tbody></table>\n");
    } else {
        P(b, "<p class=\"none\">No tuning steps recorded.</p>\n");
    }
    P(b, "</div></div>\n<h3>Nodes kept out of INT8 by tuning</h3>\n");
    oct_rep_name_list(b, oct_rep_get(tune, "fallback_nodes"));
}

void oct_rep_section_summary(oct_rep_buf *b, const cJSON *doc) {
    oct_rep_section_open(b, "summary", "Summary");
    const char *fmt = oct_rep_str(doc, "format");
    if (fmt && strcmp(fmt, "octet-analysis")) {
        P(b, "<p class=\"note\">The document's format is &quot;");
        E(b, fmt);
        P(b, "&quot;, not &quot;octet-analysis&quot;; what it shares with one is shown.</p>\n");
    }
    P(b, "<div class=\"cols\"><div><h3>Run</h3>\n");
    run_table(b, doc);
    P(b, "</div><div><h3>Precision</h3>\n");
    const cJSON *s = oct_rep_get(doc, "summary");
    if (cJSON_IsObject(s))
        precision_table(b, s);
    else
        P(b, "<p class=\"none\">The document has no summary.</p>\n");
    P(b, "</div></div>\n");
    if (cJSON_IsObject(s)) {
        metric_tiles(b, s);
        outputs_table(b, s);
    }
    const cJSON *tune = oct_rep_get(doc, "tune");
    if (cJSON_IsObject(tune)) {
        double tot = 0;
        int tk = oct_rep_numk(s, "flops_total", &tot) == OCT_REP_FINITE;
        summary_tune(b, tune, tot, tk);
    }
    P(b, "</section>\n");
}
