/* The HTML report's weight optimisation table: what octet calibrate --ptq
 * did to each layer (the plan's "ptq" section, copied into the analysis). */
#include <string.h>

#include "io/report_internal.h"

#define P oct_rep_puts
#define PF oct_rep_printf
#define E oct_rep_esc

void oct_rep_ptq_table(oct_rep_buf *b, const cJSON *doc) {
    const cJSON *ptq = oct_rep_get(doc, "ptq");
    if (!cJSON_IsObject(ptq)) return;
    P(b, "<h3>Weight optimisation</h3>\n<p class=\"note\">");
    E(b, oct_rep_str(ptq, "methods") ? oct_rep_str(ptq, "methods") : "");
    double v;
    if (oct_rep_numk(ptq, "weight_bits", &v) == OCT_REP_FINITE) PF(b, ", %.0f-bit weights", v);
    if (oct_rep_numk(ptq, "cle_pairs", &v) == OCT_REP_FINITE)
        PF(b, "; cross-layer equalization of %.0f Conv pairs", v);
    if (oct_rep_numk(ptq, "total_ms", &v) == OCT_REP_FINITE) PF(b, "; %.1f s", v / 1e3);
    P(b,
      ". Reconstruction MSE: the layer's output error against FP32 on the sampled input columns, "
      "with "
      "round-to-nearest weights and after AdaRound (AdaRound's codes are kept only where lower). "
      "Bias shift: the mean |correction| bias correction added.</p>\n");
    const cJSON *layers = oct_rep_get(ptq, "layers");
    if (!oct_rep_len(layers)) return;
    P(b,
      "<div class=\"scroll\"><table class=\"sortable ptq\"><thead><tr><th>node</th><th>op</th>"
      "<th class=\"n\">level</th><th class=\"n\">rows</th><th class=\"n\">K</th><th "
      "class=\"n\">columns</th>"
      "<th>AdaRound</th><th class=\"n\">MSE round-to-nearest</th><th class=\"n\">MSE after</th>"
      "<th class=\"n\">bias shift</th><th class=\"n\">ms</th><th>note</th></tr></thead><tbody>\n");
    const cJSON *l;
    OCT_REP_EACH(l, layers) {
        P(b, "<tr>");
        oct_rep_td_text(b, oct_rep_str(l, "node"), "name");
        oct_rep_td_text(b, oct_rep_str(l, "op"), NULL);
        oct_rep_td_num(b, oct_rep_get(l, "level"), OCT_FMT_INT, NULL);
        oct_rep_td_num(b, oct_rep_get(l, "rows"), OCT_FMT_INT, NULL);
        oct_rep_td_num(b, oct_rep_get(l, "k"), OCT_FMT_INT, NULL);
        oct_rep_td_num(b, oct_rep_get(l, "columns"), OCT_FMT_INT, NULL);
        oct_rep_td_text(b, cJSON_IsTrue(oct_rep_get(l, "adaround")) ? "yes" : "no", NULL);
        oct_rep_td_num(b, oct_rep_get(l, "mse_rtn"), OCT_FMT_G, NULL);
        oct_rep_td_num(b, oct_rep_get(l, "mse_after"), OCT_FMT_G, NULL);
        oct_rep_td_num(b, oct_rep_get(l, "bias_shift"), OCT_FMT_G, NULL);
        oct_rep_td_num(b, oct_rep_get(l, "ms"), OCT_FMT_INT, NULL);
        oct_rep_td_text(b, oct_rep_str(l, "note"), NULL);
        P(b, "</tr>\n");
    }
    P(b, "</tbody></table></div>\n");
}
