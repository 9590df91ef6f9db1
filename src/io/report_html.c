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

static const char css[] =
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:#f4f5f7;color:#1d2330;font:14px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif}\n"
    "header{background:#1d2330;color:#fff;padding:18px 28px}\n"
    "header h1{margin:0;font-size:22px;font-weight:600}\n"
    "header .sub{color:#b9c1d0;margin-top:4px;word-break:break-all}\n"
    "nav{position:sticky;top:0;z-index:2;background:#2b3344;padding:6px 28px}\n"
    "nav a{color:#dfe5ef;text-decoration:none;margin-right:18px;font-size:13px}\n"
    "nav a:hover{color:#fff;text-decoration:underline}\n"
    "main{max-width:1180px;margin:0 auto;padding:12px 20px 40px}\n"
    "section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:6px 22px 18px;"
    "margin:18px 0}\n"
    "h2{font-size:19px;margin:14px 0 10px;border-bottom:2px solid #e6e9ef;padding-bottom:6px}\n"
    "h3{font-size:15px;margin:18px 0 8px}\n"
    "table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}\n"
    "th,td{border-bottom:1px solid #e6e9ef;padding:4px 9px;text-align:left;vertical-align:top}\n"
    "th{background:#f0f2f6;font-weight:600;white-space:nowrap}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.name{word-break:break-all;min-width:220px;max-width:420px;font-family:ui-monospace,'DejaVu Sans Mono',"
    "Menlo,monospace;font-size:12px}\n"
    "table.tensors th{white-space:normal}\n"
    "table.kv th{text-align:left;background:none;color:#5a6374;font-weight:500}\n"
    "table.sortable th{cursor:pointer}\n"
    "table.sortable th[data-dir=asc]::after{content:' \\25B2'}\n"
    "table.sortable th[data-dir=desc]::after{content:' \\25BC'}\n"
    "tr.hl td{background:#fff4e0}\n"
    "tr.bad td.q{color:#b3261e;font-weight:600}\n"
    ".scroll{max-height:560px;overflow:auto;border:1px solid #e6e9ef;border-radius:4px}\n"
    ".scroll table{margin:0;width:100%}\n"
    ".scroll th{position:sticky;top:0}\n"
    ".tiles{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0}\n"
    ".tile{border:1px solid #dde1e8;border-radius:6px;padding:8px 14px;min-width:150px}\n"
    ".tile .k{color:#5a6374;font-size:12px}\n"
    ".tile .v{font-size:20px;font-weight:600}\n"
    ".badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;"
    "font-weight:600;color:#fff}\n"
    ".ok{background:#2e7d32}.fail{background:#b3261e}\n"
    ".card{border:1px solid #dde1e8;border-left:6px solid #888;border-radius:6px;"
    "padding:8px 14px;margin:10px 0}\n"
    ".card.error{border-left-color:#b3261e;background:#fdf0ef}\n"
    ".card.warning{border-left-color:#d98300;background:#fff8e8}\n"
    ".card.info{border-left-color:#1f6fb4;background:#eef5fc}\n"
    ".card .head{font-weight:600}\n"
    ".sev{text-transform:uppercase;font-size:11px;letter-spacing:.05em;margin-right:8px}\n"
    ".card.error .sev{color:#b3261e}.card.warning .sev{color:#a66300}"
    ".card.info .sev{color:#1f6fb4}\n"
    ".card table{margin:4px 0}\n"
    ".fix{margin-top:4px}\n"
    "code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;font-size:12px;"
    "word-break:break-all}\n"
    "ul.names{columns:2;font-size:12px;margin:4px 0;padding-left:20px}\n"
    "ul.names li{word-break:break-all}\n"
    ".none{color:#5a6374;font-style:italic}\n"
    ".note{color:#5a6374;font-size:12px;margin:2px 0 8px}\n"
    "svg.chart{display:block;width:100%;height:auto;font-size:11px}\n"
    "svg .grid{stroke:#e8ebf0}\n"
    "svg .axis{stroke:#9aa3b2}\n"
    "svg .frame{fill:none;stroke:#9aa3b2}\n"
    "svg .tick{fill:#5a6374}\n"
    "svg .label{fill:#3a4252;font-size:12px}\n"
    "svg .limit{stroke:#b3261e;stroke-dasharray:6 4;stroke-width:1.3}\n"
    "svg .limit-label{fill:#b3261e}\n"
    "svg .trace{fill:none;stroke:#c3c9d4;stroke-width:1}\n"
    "svg .band{fill:#f3f5f8;stroke:none}\n"
    "svg .bar{fill:#8fb3d9}\n"
    "svg .rbar{fill:#5b8fc7}\n"
    "svg .name{fill:#1d2330;font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;"
    "font-size:11px}\n"
    "svg .val{fill:#3a4252}\n"
    ".legend{display:flex;flex-wrap:wrap;gap:16px;font-size:12px;margin:4px 0 14px}\n"
    ".legend .swatch{display:inline-block;width:20px;height:0;border-top:3px solid;"
    "margin-right:5px;vertical-align:middle}\n"
    ".legend .swatch.dashed{border-top-style:dashed}\n"
    ".legend .dot{display:inline-block;width:10px;height:10px;border-radius:50%;"
    "margin-right:5px;vertical-align:middle}\n";

/* Sorting: a click on a header sorts by that column (numbers by their data-v,
 * missing values last); a second click reverses. */
static const char js[] =
    "(function(){\n"
    "function key(td){if(!td)return null;var v=td.getAttribute('data-v');\n"
    " if(v===null)return td.textContent.toLowerCase();if(v==='')return null;\n"
    " if(v==='inf')return Infinity;if(v==='-inf')return -Infinity;return parseFloat(v);}\n"
    "var tables=document.querySelectorAll('table.sortable');\n"
    "Array.prototype.forEach.call(tables,function(t){\n"
    " if(!t.tHead||!t.tBodies.length)return;\n"
    " var ths=t.tHead.rows[0].cells;\n"
    " Array.prototype.forEach.call(ths,function(th,i){\n"
    "  th.title='click to sort';\n"
    "  th.addEventListener('click',function(){\n"
    "   var asc=th.getAttribute('data-dir')!=='asc';\n"
    "   Array.prototype.forEach.call(ths,function(h){h.removeAttribute('data-dir');});\n"
    "   th.setAttribute('data-dir',asc?'asc':'desc');\n"
    "   var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);\n"
    "   rows.sort(function(r,s){var x=key(r.cells[i]),y=key(s.cells[i]);\n"
    "    if(x===null||y===null)return (x===null)-(y===null);\n"
    "    var c=x<y?-1:x>y?1:0;return asc?c:-c;});\n"
    "   rows.forEach(function(r){b.appendChild(r);});\n"
    "  });\n"
    " });\n"
    " t.setAttribute('data-sort-ready','1');\n"
    "});\n"
    "})();\n";

/* ---- small pieces ------------------------------------------------------ */
static int is_int8(const char *prec) { return prec && !strcmp(prec, "int8"); }

/* A <td class="n"> with a sort key. */
static void td_num(oct_rep_buf *b, const cJSON *item, oct_rep_style st, const char *extra) {
    P(b, "<td class=\"n");
    if (extra) PF(b, " %s", extra);
    P(b, "\" data-v=\"");
    oct_rep_sortkey(b, item);
    P(b, "\">");
    oct_rep_item(b, item, st);
    P(b, "</td>");
}

static void td_text(oct_rep_buf *b, const char *s, const char *cls) {
    if (cls) PF(b, "<td class=\"%s\">", cls);
    else P(b, "<td>");
    if (s) E(b, s);
    else P(b, "&mdash;");
    P(b, "</td>");
}

static void kv_row(oct_rep_buf *b, const char *k, const cJSON *item, oct_rep_style st) {
    PF(b, "<tr><th>%s</th><td>", k);
    if (cJSON_IsString(item) && oct_rep_num(item, NULL) == OCT_REP_NONE) E(b, item->valuestring);
    else oct_rep_item(b, item, st);
    P(b, "</td></tr>\n");
}

static void tile(oct_rep_buf *b, const char *k, const cJSON *item, oct_rep_style st,
                 const char *unit) {
    PF(b, "<div class=\"tile\"><div class=\"k\">%s</div><div class=\"v\">", k);
    oct_rep_item(b, item, st);
    if (unit && oct_rep_num(item, NULL) == OCT_REP_FINITE) P(b, unit);
    P(b, "</div></div>\n");
}

/* A list of names (node or tensor names). */
static void name_list(oct_rep_buf *b, const cJSON *arr) {
    if (!oct_rep_len(arr)) {
        P(b, "<p class=\"none\">none</p>\n");
        return;
    }
    P(b, "<ul class=\"names\">");
    const cJSON *x;
    OCT_REP_EACH(x, arr) {
        P(b, "<li class=\"mono\">");
        oct_rep_any(b, x, 16);
        P(b, "</li>");
    }
    P(b, "</ul>\n");
}

/* The share of FLOPs outside INT8: a value above 1 is a FLOP count (divided by
 * the total when known), one in [0, 1] already a share. */
static void flops_share(oct_rep_buf *b, const cJSON *item, double total, int total_known) {
    double v;
    oct_rep_kind k = oct_rep_num(item, &v);
    if (k == OCT_REP_FINITE && v > 1) {
        if (total_known && total > 0) oct_rep_val(b, k, v / total, OCT_FMT_PCT);
        else oct_rep_val(b, k, v, OCT_FMT_FLOPS);
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

static void section_open(oct_rep_buf *b, const char *id, const char *title) {
    PF(b, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
}

/* ---- summary ----------------------------------------------------------- */
static void summary_tune(oct_rep_buf *b, const cJSON *tune, double total, int total_known) {
    P(b, "<h3>Tuning</h3>\n<table class=\"kv\">\n");
    kv_row(b, "Target", oct_rep_get(tune, "target"), OCT_FMT_G);
    const cJSON *met = oct_rep_get(tune, "met");
    P(b, "<tr><th>Result</th><td>");
    if (cJSON_IsBool(met))
        P(b, cJSON_IsTrue(met) ? "<span class=\"badge ok\">target met</span>"
                               : "<span class=\"badge fail\">target not met</span>");
    else P(b, "&mdash;");
    P(b, "</td></tr>\n");
    kv_row(b, "Fallback precision", oct_rep_get(tune, "fallback_precision"), OCT_FMT_G);
    P(b, "<tr><th>Fallback nodes</th><td>");
    PF(b, "%d", oct_rep_len(oct_rep_get(tune, "fallback_nodes")));
    P(b, "</td></tr>\n<tr><th>FLOPs outside INT8</th><td>");
    flops_share(b, oct_rep_get(tune, "flops_outside_int8"), total, total_known);
    P(b, "</td></tr>\n</table>\n");
    const cJSON *steps = oct_rep_get(tune, "steps");
    if (oct_rep_len(steps)) {
        P(b, "<table class=\"steps\"><thead><tr><th>step</th><th class=\"n\">metric</th>"
             "<th class=\"n\">fallback nodes</th><th class=\"n\">FLOPs outside INT8</th>"
             "</tr></thead><tbody>\n");
        const cJSON *s;
        OCT_REP_EACH(s, steps) {
            P(b, "<tr>");
            td_text(b, oct_rep_str(s, "step"), NULL);
            td_num(b, oct_rep_get(s, "metric"), OCT_FMT_G, NULL);
            td_num(b, oct_rep_get(s, "fallback_nodes"), OCT_FMT_INT, NULL);
            P(b, "<td class=\"n\">");
            flops_share(b, oct_rep_get(s, "flops_outside_int8"), total, total_known);
            P(b, "</td></tr>\n");
        }
        P(b, "</tbody></table>\n");
    } else {
        P(b, "<p class=\"none\">No tuning steps recorded.</p>\n");
    }
    P(b, "<h3>Nodes kept out of INT8 by tuning</h3>\n");
    name_list(b, oct_rep_get(tune, "fallback_nodes"));
}

static void section_summary(oct_rep_buf *b, const cJSON *doc) {
    section_open(b, "summary", "Summary");
    const char *fmt = oct_rep_str(doc, "format");
    if (fmt && strcmp(fmt, "octet-analysis")) {
        P(b, "<p class=\"note\">The document's format is &quot;");
        E(b, fmt);
        P(b, "&quot;, not &quot;octet-analysis&quot;; what it shares with one is shown.</p>\n");
    }
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

    const cJSON *s = oct_rep_get(doc, "summary");
    if (!cJSON_IsObject(s)) {
        P(b, "<p class=\"none\">The document has no summary.</p>\n");
    } else {
        const char *metric = oct_rep_str(s, "metric");
        const char *label = metric_label(metric);
        P(b, "<h3>");
        if (label) P(b, label);
        else E(b, metric);
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
                oct_rep_numk(lat, "plan", &q) == OCT_REP_FINITE && q > 0)
                PF(b, "<div class=\"tile\"><div class=\"k\">speed-up</div>"
                      "<div class=\"v\">%.2f&times;</div></div>\n",
                   f / q);
        }
        P(b, "</div>\n");

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
                td_text(b, oct_rep_str(o, "name"), "name");
                td_num(b, oct_rep_get(o, "sqnr_db"), OCT_FMT_DB, "q");
                td_num(b, oct_rep_get(o, "cosine"), OCT_FMT_FIX4, NULL);
                td_num(b, oct_rep_get(o, "rel_l2"), OCT_FMT_G, NULL);
                td_num(b, oct_rep_get(o, "max_abs_err"), OCT_FMT_G, NULL);
                td_num(b, oct_rep_get(o, "zeroed_rate"), OCT_FMT_PCT, NULL);
                P(b, "</tr>\n");
            }
            P(b, "</tbody></table>\n");
        } else {
            P(b, "<p class=\"none\">No outputs listed.</p>\n");
        }

        P(b, "<h3>Precision</h3>\n<table class=\"kv\">\n");
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
    const cJSON *tune = oct_rep_get(doc, "tune");
    if (cJSON_IsObject(tune)) {
        double tot = 0;
        int tk = oct_rep_numk(s, "flops_total", &tot) == OCT_REP_FINITE;
        summary_tune(b, tune, tot, tk);
    }
    P(b, "</section>\n");
}

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
    section_open(b, "diagnosis", "Diagnosis");
    const cJSON *ds = oct_rep_get(doc, "diagnoses");
    int count[4] = {0};
    const cJSON *d;
    OCT_REP_EACH(d, ds) {
        if (cJSON_IsObject(d)) count[severity_rank(oct_rep_str(d, "severity"))]++;
    }
    if (!count[0] && !count[1] && !count[2] && !count[3]) {
        P(b, "<p class=\"none\">No problems found.</p>\n</section>\n");
        return;
    }
    PF(b, "<p>%d error%s, %d warning%s, %d note%s.</p>\n", count[0], count[0] == 1 ? "" : "s",
       count[1], count[1] == 1 ? "" : "s", count[2] + count[3], count[2] + count[3] == 1 ? "" : "s");
    for (int r = 0; r < 4; r++)
        OCT_REP_EACH(d, ds) {
            if (cJSON_IsObject(d) && severity_rank(oct_rep_str(d, "severity")) == r)
                diagnosis_card(b, d);
        }
    P(b, "</section>\n");
}

/* ---- SQNR -------------------------------------------------------------- */
static void section_sqnr(oct_rep_buf *b, const cJSON *doc) {
    section_open(b, "sqnr", "SQNR along the graph");
    const cJSON *ts = oct_rep_get(doc, "tensors");
    P(b, "<p class=\"note\">Each point is a tensor: the quantized run against FP32, error "
         "accumulated upstream included. Points in the band at the top (&infin;) have no error at all; "
         "the dashed line marks 20 dB.</p>\n");
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
    P(b, "<div class=\"scroll\"><table class=\"sortable tensors\"><thead><tr>"
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
        if (oct_rep_num(order, NULL) == OCT_REP_FINITE) td_num(b, order, OCT_FMT_INT, NULL);
        else PF(b, "<td class=\"n\" data-v=\"%d\">%d</td>", i, i);
        i++;
        td_text(b, oct_rep_str(t, "name"), "name");
        const char *op = oct_rep_str(t, "producer_op");
        td_text(b, op ? op : (cJSON_IsTrue(oct_rep_get(t, "is_input")) ? "(input)" : NULL), NULL);
        td_text(b, prec, is_int8(prec) ? NULL : "float");
        td_num(b, oct_rep_get(t, "sqnr_db"), OCT_FMT_DB, "q");
        td_num(b, oct_rep_get(t, "own_sqnr_db"), OCT_FMT_DB, NULL);
        td_num(b, oct_rep_get(t, "cosine"), OCT_FMT_FIX4, NULL);
        td_num(b, oct_rep_get(t, "saturation_rate"), OCT_FMT_PCT, NULL);
        td_num(b, oct_rep_get(t, "zeroed_rate"), OCT_FMT_PCT, NULL);
        td_num(b, oct_rep_get(t, "amax"), OCT_FMT_G, NULL);
        const cJSON *obs = oct_rep_get(t, "observed");
        td_num(b, oct_rep_get(obs, "absmax"), OCT_FMT_G, NULL);
        const cJSON *p = oct_rep_get(obs, "p9999");
        if (oct_rep_num(p, NULL) == OCT_REP_NONE) p = oct_rep_get(oct_rep_get(t, "calib"), "p9999");
        td_num(b, p, OCT_FMT_G, NULL);
        P(b, "</tr>\n");
    }
    P(b, "</tbody></table></div>\n</section>\n");
}

/* ---- sensitivity ------------------------------------------------------- */
static void section_sensitivity(oct_rep_buf *b, const cJSON *doc) {
    section_open(b, "sensitivity", "Sensitivity");
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
    static const struct {
        const char *key, *title, *how;
    } parts[] = {
        {"only", "Only this tensor in INT8", "(everything else in FP32): the worst first"},
        {"except", "Everything in INT8 except this tensor", "the largest gain first"}};
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
    section_open(b, "histograms", "Histograms");
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
static void section_plan(oct_rep_buf *b, const cJSON *doc) {
    section_open(b, "plan", "Plan");
    const cJSON *nodes = oct_rep_get(doc, "plan_nodes");
    int n = oct_rep_len(nodes);
    if (!n) {
        P(b, "<p class=\"none\">The document lists no plan nodes.</p>\n</section>\n");
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
        while (k < np && strcmp(names[k], p)) k++;
        if (k == np) {
            if (np == 8) k = 7, p = "other";
            else names[np++] = p;
        }
        double f;
        cnt[k]++;
        if (oct_rep_numk(x, "flops", &f) == OCT_REP_FINITE && f > 0) fl[k] += f, total += f;
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
        td_text(b, oct_rep_str(x, "node"), "name");
        td_text(b, oct_rep_str(x, "op"), NULL);
        td_text(b, p, NULL);
        td_num(b, oct_rep_get(x, "flops"), OCT_FMT_FLOPS, NULL);
        double f;
        if (total > 0 && oct_rep_numk(x, "flops", &f) == OCT_REP_FINITE && f >= 0)
            PF(b, "<td class=\"n\" data-v=\"%.17g\">%.2f%%</td>", f / total, 100 * f / total);
        else P(b, "<td class=\"n\" data-v=\"\">&mdash;</td>");
        P(b, "</tr>\n");
    }
    P(b, "</tbody></table></div>\n</section>\n");
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
    P(b, css);
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
    section_summary(b, doc);
    section_diagnosis(b, doc);
    section_sqnr(b, doc);
    section_sensitivity(b, doc);
    section_histograms(b, doc);
    section_plan(b, doc);
    P(b, "</main>\n<script>\n");
    P(b, js);
    P(b, "</script>\n</body>\n</html>\n");
}

oct_status oct_report_html_write(const cJSON *analysis, const char *path, oct_error *err) {
    if (!path) return oct_fail(err, OCT_E_INVALID_ARG, "report: no output path");
    if (!cJSON_IsObject(analysis))
        return oct_fail(err, OCT_E_INVALID_ARG, "report: the analysis document is not a JSON object");
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
