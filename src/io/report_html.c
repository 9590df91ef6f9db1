/* The HTML report of an analysis document: one self-contained page with
 * inline CSS, inline SVG charts and a few lines of inline JavaScript that
 * make the tables sortable (the page shows everything without it). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/report_html.h"
#include "io/report_internal.h"

#define P oct_rep_puts
#define PF oct_rep_printf
#define E oct_rep_esc

/* ---- small pieces ------------------------------------------------------ */
static int is_int8(const char *prec) { return prec && !strcmp(prec, "int8"); }

/* ---- diagnosis --------------------------------------------------------- */
static int severity_rank(const char *s) {
    if (s && !strcmp(s, "error")) return 0;
    if (s && !strcmp(s, "warning")) return 1;
    if (s && !strcmp(s, "info")) return 2;
    return 3;
}

static void diagnosis_card(oct_rep_buf *b, const cJSON *d) {
    const char *sev = oct_rep_str(d, "severity");
    int r = severity_rank(sev);
    static const char *cls[] = {"error", "warning", "info", "other"};
    PF(b, "<div class=\"card %s\">\n<div class=\"head\"><span class=\"sev\">%s</span>", cls[r],
       r < 3 ? cls[r] : "note");
    const char *rule = oct_rep_str(d, "rule");
    E(b, rule ? rule : "(no rule)");
    P(b, "</div>\n<table class=\"kv\">\n");
    const char *tensor = oct_rep_str(d, "tensor");
    if (tensor) {
        P(b, "<tr><th>Tensor</th><td class=\"mono\">");
        E(b, tensor);
        P(b, "</td></tr>\n");
    }
    const cJSON *nodes = oct_rep_get(d, "nodes");
    if (oct_rep_len(nodes)) {
        P(b, "<tr><th>Nodes</th><td class=\"mono\">");
        oct_rep_any(b, nodes, 1000000);
        P(b, "</td></tr>\n");
    }
    const char *msg = oct_rep_str(d, "message");
    if (msg) {
        P(b, "<tr><th>What</th><td>");
        E(b, msg);
        P(b, "</td></tr>\n");
    }
    const cJSON *nums = oct_rep_get(d, "numbers");
    if (cJSON_IsObject(nums) && nums->child) {
        P(b, "<tr><th>Numbers</th><td>");
        const cJSON *x;
        int i = 0;
        cJSON_ArrayForEach(x, nums) {
            if (i++) P(b, "; ");
            P(b, "<span class=\"mono\">");
            E(b, x->string);
            P(b, "</span> = ");
            oct_rep_any(b, x, 16);
        }
        P(b, "</td></tr>\n");
    }
    const char *fix = oct_rep_str(d, "fix");
    if (fix) {
        P(b, "<tr><th>Fix</th><td>");
        E(b, fix);
        P(b, "</td></tr>\n");
    }
    const cJSON *fb = oct_rep_get(d, "fallback");
    if (oct_rep_len(fb)) {
        P(b, "<tr><th>Tune would keep</th><td class=\"mono\">");
        oct_rep_any(b, fb, 1000000);
        P(b, "</td></tr>\n");
    }
    P(b, "</table>\n</div>\n");
}

static void section_diagnosis(oct_rep_buf *b, const cJSON *doc) {
    oct_rep_section_open(b, "diagnosis", "Diagnosis");
    const cJSON *ds = oct_rep_get(doc, "diagnoses");
    int count[4] = {0};
    const cJSON *d;
    OCT_REP_EACH(d, ds) {
        if (cJSON_IsObject(d)) count[severity_rank(oct_rep_str(d, "severity"))]++;
    }
    if (!count[0] && !count[1] && !count[2] && !count[3]) {
        P(b, "<p class=\"none\">No problems found.");
        if (!cJSON_IsArray(ds)) P(b, " (The document carries no diagnosis results.)");
        P(b, "</p>\n</section>\n");
        return;
    }
    PF(b, "<p>%d error%s, %d warning%s, %d note%s.</p>\n", count[0], count[0] == 1 ? "" : "s",
       count[1], count[1] == 1 ? "" : "s", count[2] + count[3],
       count[2] + count[3] == 1 ? "" : "s");
    for (int r = 0; r < 4; r++)
        OCT_REP_EACH(d, ds) {
            if (cJSON_IsObject(d) && severity_rank(oct_rep_str(d, "severity")) == r)
                diagnosis_card(b, d);
        }
    P(b, "</section>\n");
}

/* ---- SQNR -------------------------------------------------------------- */
static void section_sqnr(oct_rep_buf *b, const cJSON *doc) {
    oct_rep_section_open(b, "sqnr", "SQNR along the graph");
    const cJSON *ts = oct_rep_get(doc, "tensors");
    P(b, "<p class=\"note\">Each point is a tensor: the quantized run against FP32, error "
         "accumulated upstream included. Points in the band at the top (&infin;) have no error "
         "at all; the dashed line marks 20 dB.</p>\n");
    PF(b,
       "<div class=\"legend\"><span><i class=\"dot\" style=\"background:%s\"></i>int8 tensor</span>"
       "<span><i class=\"dot\" style=\"background:%s\"></i>float tensor</span></div>\n",
       OCT_REP_C_INT8, OCT_REP_C_FLOAT);
    oct_rep_svg_sqnr(b, ts);
    if (!oct_rep_len(ts)) {
        P(b, "</section>\n");
        return;
    }
    P(b, "<h3>Tensors</h3>\n<p class=\"note\">Click a column header to sort; rows below 20 dB "
         "are marked. p9999 is the 99.99th percentile of |x| on the analysed images.</p>\n");
    P(b,
      "<div class=\"scroll\"><table class=\"sortable tensors\"><thead><tr>"
      "<th class=\"n\">#</th><th>tensor</th><th>producer op</th><th>precision</th>"
      "<th class=\"n\">SQNR (dB)</th><th class=\"n\">own SQNR (dB)</th><th class=\"n\">cosine</th>"
      "<th class=\"n\">saturated</th><th class=\"n\">zeroed</th><th class=\"n\">amax</th>"
      "<th class=\"n\">observed absmax</th><th class=\"n\">p9999</th></tr></thead><tbody>\n");
    const cJSON *t;
    int i = 0;
    OCT_REP_EACH(t, ts) {
        double v;
        int bad = oct_rep_numk(t, "sqnr_db", &v) == OCT_REP_FINITE && v < 20;
        const char *prec = oct_rep_str(t, "precision");
        P(b, bad ? "<tr class=\"bad\">" : "<tr>");
        const cJSON *order = oct_rep_get(t, "order");
        if (oct_rep_num(order, NULL) == OCT_REP_FINITE)
            oct_rep_td_num(b, order, OCT_FMT_INT, NULL);
        else
            PF(b, "<td class=\"n\" data-v=\"%d\">%d</td>", i, i);
        i++;
        oct_rep_td_text(b, oct_rep_str(t, "name"), "name");
        const char *op = oct_rep_str(t, "producer_op");
        oct_rep_td_text(b, op ? op : (cJSON_IsTrue(oct_rep_get(t, "is_input")) ? "(input)" : NULL),
                        NULL);
        oct_rep_td_text(b, prec, is_int8(prec) ? NULL : "float");
        oct_rep_td_num(b, oct_rep_get(t, "sqnr_db"), OCT_FMT_DB, "q");
        oct_rep_td_num(b, oct_rep_get(t, "own_sqnr_db"), OCT_FMT_DB, NULL);
        oct_rep_td_num(b, oct_rep_get(t, "cosine"), OCT_FMT_FIX4, NULL);
        oct_rep_td_num(b, oct_rep_get(t, "saturation_rate"), OCT_FMT_PCT, NULL);
        oct_rep_td_num(b, oct_rep_get(t, "zeroed_rate"), OCT_FMT_PCT, NULL);
        oct_rep_td_num(b, oct_rep_get(t, "amax"), OCT_FMT_G, NULL);
        const cJSON *obs = oct_rep_get(t, "observed");
        oct_rep_td_num(b, oct_rep_get(obs, "absmax"), OCT_FMT_G, NULL);
        const cJSON *p = oct_rep_get(obs, "p9999");
        if (oct_rep_num(p, NULL) == OCT_REP_NONE) p = oct_rep_get(oct_rep_get(t, "calib"), "p9999");
        oct_rep_td_num(b, p, OCT_FMT_G, NULL);
        P(b, "</tr>\n");
    }
    P(b, "</tbody></table></div>\n</section>\n");
}

/* ---- sensitivity ------------------------------------------------------- */
static void section_sensitivity(oct_rep_buf *b, const cJSON *doc) {
    oct_rep_section_open(b, "sensitivity", "Sensitivity");
    const cJSON *s = oct_rep_get(doc, "sensitivity");
    if (!cJSON_IsObject(s)) {
        P(b, "<p class=\"none\">Not computed (run with --sensitivity).</p>\n</section>\n");
        return;
    }
    const char *score = oct_rep_str(s, "score");
    P(b, "<p>Score: <span class=\"mono\">");
    E(b, score ? score : "unknown");
    P(b, "</span>, on ");
    oct_rep_item(b, oct_rep_get(s, "images"), OCT_FMT_INT);
    P(b, " image(s). Hover a bar for the tensor's full name and its consumer nodes.</p>\n");
    const char *task = oct_rep_str(s, "task"), *fine = oct_rep_str(s, "task_fine");
    if (task) {
        /* the tensors whose "only" configuration lowers the task's measure */
        const char *by = fine ? "task_fine" : "task";
        double best = -1e300, v;
        const cJSON *e;
        OCT_REP_EACH(e, oct_rep_get(s, "only"))
        if (oct_rep_num(oct_rep_get(e, by), &v) == OCT_REP_FINITE && v > best) best = v;
        P(b, "<p>The first ranking is ordered by <span class=\"mono\">");
        E(b, fine ? fine : task);
        if (fine) {
            P(b, "</span>, then <span class=\"mono\">");
            E(b, task);
        }
        P(b, "</span> against FP32 on these images, then by the score. The tensors that lower it most alone:</p>\n<ul>\n");
        int shown = 0;
        OCT_REP_EACH(e, oct_rep_get(s, "only")) {
            if (oct_rep_num(oct_rep_get(e, by), &v) != OCT_REP_FINITE || !(v < best) || shown == 10) continue;
            P(b, "<li><span class=\"mono\">");
            E(b, oct_rep_str(e, "tensor") ? oct_rep_str(e, "tensor") : "?");
            PF(b, "</span>: %.4f</li>\n", v);
            shown++;
        }
        if (!shown) P(b, "<li>none</li>\n");
        P(b, "</ul>\n");
    }
    static const struct {
        const char *key, *title, *how;
    } parts[] = {{"only", "Only this tensor in INT8",
                  "Everything else stays in FP32: a low score means this tensor alone hurts. "
                  "Worst first"},
                 {"except", "Everything in INT8 except this tensor",
                  "Only this tensor stays in FP32: a high score means keeping it out of INT8 helps "
                  "most. Best first"}};
    for (int i = 0; i < 2; i++) {
        const cJSON *r = oct_rep_get(s, parts[i].key);
        int n = oct_rep_len(r);
        PF(b, "<h3>%s</h3>\n<p class=\"note\">%s; %s%d of %d shown.</p>\n", parts[i].title,
           parts[i].how, n > 20 ? "top " : "", n > 20 ? 20 : n, n);
        oct_rep_svg_ranking(b, r, 20, score ? score : "score");
    }
    P(b, "</section>\n");
}

/* ---- histograms -------------------------------------------------------- */
/* A value in dB with its unit, or a dash. */
static void db_value(oct_rep_buf *b, const cJSON *item) {
    oct_rep_item(b, item, OCT_FMT_DB);
    if (oct_rep_num(item, NULL) == OCT_REP_FINITE) P(b, " dB");
}

static const cJSON *find_tensor(const cJSON *doc, const char *name) {
    const cJSON *t;
    if (!name) return NULL;
    OCT_REP_EACH(t, oct_rep_get(doc, "tensors")) {
        const char *n = oct_rep_str(t, "name");
        if (n && !strcmp(n, name)) return t;
    }
    return NULL;
}

static void section_histograms(oct_rep_buf *b, const cJSON *doc) {
    oct_rep_section_open(b, "histograms", "Histograms");
    const cJSON *hs = oct_rep_get(doc, "histograms");
    if (!oct_rep_len(hs)) {
        P(b, "<p class=\"none\">No histograms in the document.</p>\n</section>\n");
        return;
    }
    P(b, "<p class=\"note\">The worst INT8 tensors: the distribution of |x| over the analysed "
         "images (log counts) and where each calibrator would clip it. Values above the plan "
         "amax saturate; a range much wider than the bulk of the values leaves few INT8 levels "
         "for it.</p>\n");
    const cJSON *h;
    OCT_REP_EACH(h, hs) {
        const char *name = oct_rep_str(h, "tensor");
        P(b, "<h3 class=\"mono\">");
        E(b, name ? name : "(unnamed tensor)");
        P(b, "</h3>\n");
        const cJSON *t = find_tensor(doc, name);
        if (t) {
            P(b, "<p class=\"note\">SQNR ");
            db_value(b, oct_rep_get(t, "sqnr_db"));
            P(b, ", own SQNR ");
            db_value(b, oct_rep_get(t, "own_sqnr_db"));
            P(b, ", zeroed ");
            oct_rep_item(b, oct_rep_get(t, "zeroed_rate"), OCT_FMT_PCT);
            P(b, ", saturated ");
            oct_rep_item(b, oct_rep_get(t, "saturation_rate"), OCT_FMT_PCT);
            P(b, ".</p>\n");
        }
        oct_rep_svg_histogram(b, h);
    }
    P(b, "</section>\n");
}

/* ---- plan -------------------------------------------------------------- */
static void plan_table(oct_rep_buf *b, const cJSON *doc) {
    const cJSON *nodes = oct_rep_get(doc, "plan_nodes");
    int n = oct_rep_len(nodes);
    if (!n) {
        P(b, "<p class=\"none\">The document lists no plan nodes.</p>\n");
        return;
    }
    /* counts and FLOPs per precision */
    const char *names[8];
    int cnt[8] = {0}, np = 0;
    double fl[8] = {0}, total = 0;
    const cJSON *x;
    OCT_REP_EACH(x, nodes) {
        const char *p = oct_rep_str(x, "precision");
        if (!p) p = "unknown";
        int k = 0;
        while (k < np && strcmp(names[k], p))
            k++;
        if (k == np) { /* the eighth and later precisions are counted as "other" */
            if (np < 7) {
                names[np++] = p;
            } else {
                k = 7;
                if (np == 7) names[np++] = "other";
            }
        }
        double f;
        cnt[k]++;
        if (oct_rep_numk(x, "flops", &f) == OCT_REP_FINITE && f > 0) {
            f = fmin(f, 1e290); /* no sum overflows */
            fl[k] += f, total += f;
        }
    }
    PF(b, "<p>%d node%s: ", n, n == 1 ? "" : "s");
    for (int k = 0; k < np; k++) {
        PF(b, "%s<b>%d</b> ", k ? ", " : "", cnt[k]);
        E(b, names[k]);
        if (total > 0) {
            P(b, " (");
            oct_rep_val(b, OCT_REP_FINITE, fl[k] / total, OCT_FMT_PCT);
            P(b, " of FLOPs)");
        }
    }
    P(b, ". Rows not in INT8 are highlighted.</p>\n");
    P(b, "<div class=\"scroll\"><table class=\"sortable plan\"><thead><tr><th class=\"n\">#</th>"
         "<th>node</th><th>op</th><th>precision</th><th class=\"n\">FLOPs</th>"
         "<th class=\"n\">share</th></tr></thead><tbody>\n");
    int i = 0;
    OCT_REP_EACH(x, nodes) {
        const char *p = oct_rep_str(x, "precision");
        P(b, is_int8(p) ? "<tr>" : "<tr class=\"hl\">");
        PF(b, "<td class=\"n\" data-v=\"%d\">%d</td>", i, i);
        i++;
        oct_rep_td_text(b, oct_rep_str(x, "node"), "name");
        oct_rep_td_text(b, oct_rep_str(x, "op"), NULL);
        oct_rep_td_text(b, p, NULL);
        oct_rep_td_num(b, oct_rep_get(x, "flops"), OCT_FMT_FLOPS, NULL);
        double f;
        if (total > 0 && oct_rep_numk(x, "flops", &f) == OCT_REP_FINITE && f >= 0) {
            f = fmin(f, 1e290) / total; /* as clamped in the sum */
            PF(b, "<td class=\"n\" data-v=\"%.17g\">%.2f%%</td>", f, 100 * f);
        } else
            P(b, "<td class=\"n\" data-v=\"\">&mdash;</td>");
        P(b, "</tr>\n");
    }
    P(b, "</tbody></table></div>\n");
}

/* Weights of Conv/Gemm/MatMul nodes: how far apart the channels' ranges are
 * (max/min), which matters when they share one per-tensor scale. */
static void weights_table(oct_rep_buf *b, const cJSON *doc) {
    const cJSON *ws = oct_rep_get(doc, "weights_info");
    P(b, "<h3>Weights</h3>\n");
    if (!oct_rep_len(ws)) {
        P(b, "<p class=\"none\">The document lists no weights.</p>\n");
        return;
    }
    P(b, "<p class=\"note\">|w| per output channel: smallest, median and largest channel "
         "maximum; spread is largest / smallest. With a per-tensor scale, channels far below the "
         "largest get few INT8 levels.</p>\n");
    P(b, "<div class=\"scroll\"><table class=\"sortable weights\"><thead><tr><th>node</th>"
         "<th>op</th><th>precision</th><th>scale</th><th class=\"n\">channels</th>"
         "<th class=\"n\">min</th><th class=\"n\">median</th><th class=\"n\">max</th>"
         "<th class=\"n\">spread</th><th class=\"n\">FLOPs</th></tr></thead><tbody>\n");
    const cJSON *w;
    OCT_REP_EACH(w, ws) {
        const cJSON *pt = oct_rep_get(w, "per_tensor");
        P(b, "<tr>");
        oct_rep_td_text(b, oct_rep_str(w, "node"), "name");
        oct_rep_td_text(b, oct_rep_str(w, "op"), NULL);
        oct_rep_td_text(b, oct_rep_str(w, "precision"), NULL);
        oct_rep_td_text(
            b, cJSON_IsBool(pt) ? (cJSON_IsTrue(pt) ? "per-tensor" : "per-channel") : NULL, NULL);
        oct_rep_td_num(b, oct_rep_get(w, "channels"), OCT_FMT_INT, NULL);
        oct_rep_td_num(b, oct_rep_get(w, "absmax_min"), OCT_FMT_G, NULL);
        oct_rep_td_num(b, oct_rep_get(w, "absmax_median"), OCT_FMT_G, NULL);
        oct_rep_td_num(b, oct_rep_get(w, "absmax_max"), OCT_FMT_G, NULL);
        double lo, hi;
        if (oct_rep_numk(w, "absmax_min", &lo) == OCT_REP_FINITE &&
            oct_rep_numk(w, "absmax_max", &hi) == OCT_REP_FINITE && lo > 0 && hi >= lo &&
            hi / lo < 1e300)
            PF(b, "<td class=\"n\" data-v=\"%.17g\">%.4g</td>", hi / lo, hi / lo);
        else
            P(b, "<td class=\"n\" data-v=\"\">&mdash;</td>");
        oct_rep_td_num(b, oct_rep_get(w, "flops"), OCT_FMT_FLOPS, NULL);
        P(b, "</tr>\n");
    }
    P(b, "</tbody></table></div>\n");
}

static void section_plan(oct_rep_buf *b, const cJSON *doc) {
    oct_rep_section_open(b, "plan", "Plan");
    plan_table(b, doc);
    weights_table(b, doc);
    oct_rep_ptq_table(b, doc);
    P(b, "</section>\n");
}

/* ---- the page ---------------------------------------------------------- */
static void render(oct_rep_buf *b, const cJSON *doc) {
    const char *model = oct_rep_str(doc, "model");
    P(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
         "<link rel=\"icon\" href=\"data:,\">\n<title>octet analysis");
    if (model) {
        P(b, ": ");
        E(b, model);
    }
    P(b, "</title>\n<style>\n");
    P(b, oct_rep_css);
    P(b, "</style>\n</head>\n<body>\n<header><h1>octet analysis report</h1><div class=\"sub\">");
    E(b, model ? model : "(model not named)");
    const char *plan = oct_rep_str(doc, "plan");
    if (plan) {
        P(b, " &middot; plan ");
        E(b, plan);
    }
    P(b, "</div></header>\n<nav><a href=\"#summary\">Summary</a><a href=\"#diagnosis\">"
         "Diagnosis</a><a href=\"#sqnr\">SQNR</a><a href=\"#sensitivity\">Sensitivity</a>"
         "<a href=\"#histograms\">Histograms</a><a href=\"#plan\">Plan</a></nav>\n<main>\n");
    oct_rep_section_summary(b, doc);
    section_diagnosis(b, doc);
    section_sqnr(b, doc);
    section_sensitivity(b, doc);
    section_histograms(b, doc);
    section_plan(b, doc);
    P(b, "</main>\n<script>\n");
    P(b, oct_rep_js);
    P(b, "</script>\n</body>\n</html>\n");
}

oct_status oct_report_html_write(const cJSON *analysis, const char *path, oct_error *err) {
    if (!path) return oct_fail(err, OCT_E_INVALID_ARG, "report: no output path");
    if (!cJSON_IsObject(analysis))
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "report: the analysis document is not a JSON object");
    oct_rep_buf b = {0};
    render(&b, analysis);
    if (b.oom) {
        free(b.data);
        return oct_fail(err, OCT_E_NOMEM, "report: out of memory rendering %s", path);
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        free(b.data);
        return oct_fail(err, OCT_E_IO, "report: cannot write %s: %s", path, strerror(e));
    }
    size_t w = fwrite(b.data, 1, b.len, f);
    int bad = w != b.len || ferror(f);
    bad |= fclose(f) != 0;
    free(b.data);
    if (bad) {
        remove(path);
        return oct_fail(err, OCT_E_IO, "report: writing %s failed", path);
    }
    return OCT_OK;
}
