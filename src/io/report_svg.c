/* The HTML report's charts, drawn as inline SVG: SQNR along the graph,
 * sensitivity rankings, activation histograms with calibrator thresholds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/report_internal.h"

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about `n` ticks. */
static double nice_step(double range, int n) {
    if (!(range > 0) || !isfinite(range)) return 1;
    double raw = range / n, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static void svg_open(oct_rep_buf *b, int w, int h, const char *cls, const char *label) {
    oct_rep_printf(b,
                   "<svg class=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                   "role=\"img\" aria-label=\"",
                   cls, w, h, w, h);
    oct_rep_esc(b, label);
    oct_rep_puts(b, "\">\n");
}

/* ---- SQNR along the graph ---------------------------------------------- */
typedef struct sq_point {
    double x, y;
    oct_rep_kind k;
    int int8;
    const cJSON *t;
} sq_point;

static int cmp_point(const void *a, const void *b) {
    const sq_point *p = a, *q = b;
    return (p->x > q->x) - (p->x < q->x);
}

void oct_rep_svg_sqnr(oct_rep_buf *b, const cJSON *tensors) {
    int n = oct_rep_len(tensors);
    sq_point *pts = n ? calloc((size_t)n, sizeof *pts) : NULL;
    if (n && !pts) {
        b->oom = 1;
        return;
    }
    int np = 0, idx = 0, missing = 0;
    double ymin = 0, ymax = 40, vmin = INFINITY, vmax = -INFINITY;
    const cJSON *t;
    OCT_REP_EACH(t, tensors) {
        double x, y;
        oct_rep_kind kx = oct_rep_numk(t, "order", &x);
        oct_rep_kind ky = oct_rep_numk(t, "sqnr_db", &y);
        if (kx != OCT_REP_FINITE || fabs(x) > 1e9) x = idx;
        idx++;
        if (ky == OCT_REP_NONE) {
            missing++;
            continue;
        }
        const char *prec = oct_rep_str(t, "precision");
        pts[np] = (sq_point){x, y, ky, prec && !strcmp(prec, "int8"), t};
        if (ky == OCT_REP_FINITE) {
            if (y < vmin) vmin = y;
            if (y > vmax) vmax = y;
        }
        np++;
    }
    if (np == 0) {
        free(pts);
        oct_rep_printf(b, "<p class=\"none\">No tensor has an SQNR%s.</p>\n",
                       n ? "" : " (the document lists no tensors)");
        return;
    }
    qsort(pts, (size_t)np, sizeof *pts, cmp_point);
    /* The y range covers every finite value within [-60, 160] dB, 0 and 40 dB
     * at least; beyond it points are clipped to the edge. +inf sits in a
     * band above the top edge, -inf on the bottom edge. */
    if (vmin < INFINITY) {
        ymin = vmin < 0 ? floor(vmin / 10) * 10 : 0;
        ymax = vmax > 30 ? ceil(vmax / 10) * 10 + 10 : 40;
    }
    if (ymin < -60) ymin = -60;
    if (ymax > 160) ymax = 160;
    double xmin = pts[0].x, xmax = pts[np - 1].x;
    if (xmax <= xmin) xmin -= 1, xmax += 1;

    /* +inf gets a band of its own above the finite range */
    int has_inf = 0;
    for (int i = 0; i < np; i++)
        if (pts[i].k == OCT_REP_POSINF) has_inf = 1;
    const int W = 1100, H = 380, L = 58, R = 18, T = 20, B = 46, BAND = has_inf ? 24 : 0;
    const double pw = W - L - R, ph = H - T - B - BAND;
#define SX(v) (L + ((v)-xmin) / (xmax - xmin) * pw)
#define SY(v) (T + BAND + (ymax - (v)) / (ymax - ymin) * ph)
    svg_open(b, W, H, "chart sqnr-chart", "SQNR per tensor along the graph");
    /* grid and y axis */
    double ys = nice_step(ymax - ymin, 8);
    for (int i = 0; i < 60; i++) {
        double v = ceil(ymin / ys) * ys + i * ys + 0.0;
        if (v > ymax + 1e-9) break;
        oct_rep_printf(b, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", L,
                       W - R, SY(v), SY(v));
        oct_rep_printf(b,
                       "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                       L - 6, SY(v) + 4, v);
    }
    double xs = nice_step(xmax - xmin, 10);
    if (xs < 1) xs = 1;
    for (int i = 0; i < 60; i++) {
        double v = ceil(xmin / xs) * xs + i * xs + 0.0;
        if (v > xmax + 1e-9) break;
        oct_rep_printf(
            b,
            "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
            "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
            SX(v), SX(v), H - B, H - B + 5, SX(v), H - B + 18, v);
    }
    if (BAND)
        oct_rep_printf(
            b,
            "<rect class=\"band\" x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%d\"/>"
            "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">&infin;</text>\n",
            L, T, pw, BAND, L - 6, T + BAND / 2.0 + 4);
    oct_rep_printf(b, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\"/>\n",
                   L, T, pw, ph + BAND);
    oct_rep_printf(b,
                   "<text class=\"label\" x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">"
                   "position in topological order</text>\n",
                   L + pw / 2, H - 8);
    oct_rep_printf(b,
                   "<text class=\"label\" transform=\"translate(14 %.0f) rotate(-90)\" "
                   "text-anchor=\"middle\">SQNR (dB)</text>\n",
                   T + ph / 2);
    if (20 >= ymin && 20 <= ymax)
        oct_rep_printf(b,
                       "<line class=\"limit\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
                       "<text class=\"limit-label\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">"
                       "20 dB</text>\n",
                       L, W - R, SY(20), SY(20), W - R - 4, SY(20) - 4);
    /* the line through every point, then the points */
    oct_rep_puts(b, "<polyline class=\"trace\" points=\"");
    for (int i = 0; i < np; i++) {
        double y = pts[i].k == OCT_REP_POSINF   ? ymax + (ymax - ymin) * (BAND / 2.0) / ph
                   : pts[i].k == OCT_REP_NEGINF ? ymin
                                                : fmin(fmax(pts[i].y, ymin), ymax);
        pts[i].y = y;
        oct_rep_printf(b, "%s%.1f,%.1f", i ? " " : "", SX(pts[i].x), SY(y));
    }
    oct_rep_puts(b, "\"/>\n");
    double r = np > 600 ? 1.8 : np > 200 ? 2.4 : 3.2;
    for (int i = 0; i < np; i++) {
        const cJSON *tt = pts[i].t;
        const char *color = pts[i].int8 ? OCT_REP_C_INT8 : OCT_REP_C_FLOAT;
        if (pts[i].k == OCT_REP_FINITE)
            oct_rep_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\">",
                           SX(pts[i].x), SY(pts[i].y), r, color);
        else /* infinite: a triangle on the edge */
            oct_rep_printf(b,
                           "<path d=\"M%.1f %.1fl%.1f %.1fh%.1fz\" fill=\"%s\" class=\"infinite\">",
                           SX(pts[i].x), SY(pts[i].y) + (pts[i].k == OCT_REP_POSINF ? -r : -1), -r,
                           pts[i].k == OCT_REP_POSINF ? 2 * r : -2 * r, 2 * r, color);
        oct_rep_puts(b, "<title>");
        oct_rep_esc(b, oct_rep_str(tt, "name"));
        const char *op = oct_rep_str(tt, "producer_op");
        oct_rep_puts(b, "\n");
        oct_rep_esc(b, op ? op : "graph input");
        oct_rep_puts(b, ", ");
        oct_rep_esc(b, oct_rep_str(tt, "precision") ? oct_rep_str(tt, "precision") : "?");
        oct_rep_puts(b, ", SQNR ");
        oct_rep_item(b, oct_rep_get(tt, "sqnr_db"), OCT_FMT_DB);
        oct_rep_puts(b, " dB</title>");
        oct_rep_puts(b, pts[i].k == OCT_REP_FINITE ? "</circle>\n" : "</path>\n");
    }
    oct_rep_puts(b, "</svg>\n");
#undef SX
#undef SY
    if (missing)
        oct_rep_printf(b, "<p class=\"note\">%d tensor%s without an SQNR not plotted.</p>\n",
                       missing, missing == 1 ? "" : "s");
    free(pts);
}

/* ---- sensitivity ranking ----------------------------------------------- */
void oct_rep_svg_ranking(oct_rep_buf *b, const cJSON *ranking, int top, const char *score_name) {
    int n = oct_rep_len(ranking);
    if (n > top) n = top;
    if (n == 0) {
        oct_rep_puts(b, "<p class=\"none\">Empty ranking.</p>\n");
        return;
    }
    double lo = 0, hi = 0;
    for (int i = 0; i < n; i++) {
        double v;
        if (oct_rep_numk(cJSON_GetArrayItem(ranking, i), "score", &v) != OCT_REP_FINITE) continue;
        v = clampd(v, -1e15, 1e15);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (hi <= lo) hi = lo + 1;
    /* infinite scores get a longer, paler bar than any finite one */
    int inf = 0;
    for (int i = 0; i < n; i++) {
        oct_rep_kind k = oct_rep_numk(cJSON_GetArrayItem(ranking, i), "score", NULL);
        if (k == OCT_REP_POSINF) inf |= 1;
        if (k == OCT_REP_NEGINF) inf |= 2;
    }
    double span = hi - lo;
    if (inf & 1) hi += 0.1 * span;
    if (inf & 2) lo -= 0.1 * span;
    /* room for the longest label (names are cut to 58 characters) */
    size_t longest = 9;
    for (int i = 0; i < n; i++) {
        const char *name = oct_rep_str(cJSON_GetArrayItem(ranking, i), "tensor");
        size_t chars = 0;
        for (const char *c = name ? name : ""; *c; c++)
            if ((*c & 0xC0) != 0x80) chars++;
        if (chars > longest) longest = chars;
    }
    if (longest > 58) longest = 58;
    const int W = 1100, LABEL = 24 + (int)(longest * 6.7), R = 90, T = 8, ROW = 20, BAR = 14;
    const int H = T + n * ROW + 44;
    const double pw = W - LABEL - R;
#define BX(v) (LABEL + ((v)-lo) / (hi - lo) * pw)
    svg_open(b, W, H, "chart ranking", "sensitivity ranking");
    double xs = nice_step(hi - lo, 8);
    for (int i = 0; i < 60; i++) {
        double v = ceil(lo / xs) * xs + i * xs + 0.0;
        if (v > hi + 1e-9 * (hi - lo)) break;
        oct_rep_printf(
            b,
            "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
            "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
            BX(v), BX(v), T, T + n * ROW, BX(v), T + n * ROW + 16, v);
    }
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(ranking, i);
        const char *name = oct_rep_str(e, "tensor");
        double v;
        oct_rep_kind k = oct_rep_numk(e, "score", &v);
        double y = T + i * ROW + (ROW - BAR) / 2.0;
        oct_rep_puts(b, "<g><title>");
        oct_rep_esc(b, name ? name : "(unnamed)");
        oct_rep_puts(b, "\n");
        oct_rep_esc(b, score_name);
        oct_rep_puts(b, " ");
        oct_rep_item(b, oct_rep_get(e, "score"), OCT_FMT_G);
        const cJSON *nodes = oct_rep_get(e, "nodes");
        if (oct_rep_len(nodes)) {
            oct_rep_puts(b, "\nnodes: ");
            oct_rep_any(b, nodes, 32);
        }
        oct_rep_puts(b, "</title>");
        oct_rep_printf(b, "<text class=\"name\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
                       LABEL - 8, y + BAR - 3);
        oct_rep_esc_tail(b, name ? name : "(unnamed)", 58);
        oct_rep_puts(b, "</text>");
        double x0 = BX(0), x1;
        if (k == OCT_REP_FINITE)
            x1 = BX(clampd(v, -1e15, 1e15));
        else if (k == OCT_REP_POSINF)
            x1 = BX(hi);
        else if (k == OCT_REP_NEGINF)
            x1 = BX(lo);
        else
            x1 = x0;
        if (k != OCT_REP_NONE)
            oct_rep_printf(
                b, "<rect class=\"rbar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\"%s/>",
                x1 < x0 ? x1 : x0, y, fabs(x1 - x0), BAR,
                k == OCT_REP_FINITE ? "" : " opacity=\"0.45\"");
        oct_rep_printf(b, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\">", (x1 > x0 ? x1 : x0) + 5,
                       y + BAR - 3);
        oct_rep_val(b, k, v, OCT_FMT_G);
        oct_rep_puts(b, "</text></g>\n");
    }
    oct_rep_printf(b, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>\n", BX(0),
                   BX(0), T, T + n * ROW);
    oct_rep_printf(b, "<text class=\"label\" x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">",
                   LABEL + pw / 2, H - 4);
    oct_rep_esc(b, score_name);
    oct_rep_puts(b, "</text>\n");
#undef BX
    oct_rep_puts(b, "</svg>\n");
}

/* ---- histograms -------------------------------------------------------- */
static const struct {
    const char *key, *color, *dash;
} thr_style[] = {{"minmax", "#6b6b6b", ""},
                 {"entropy", "#d62728", ""},
                 {"percentile", "#2ca02c", ""},
                 {"mse", "#9467bd", ""},
                 {"plan", "#111111", "6 3"}};
#define N_THR 5

void oct_rep_svg_histogram(oct_rep_buf *b, const cJSON *hist) {
    const cJSON *counts = oct_rep_get(hist, "counts");
    int n = oct_rep_len(counts);
    double thr[N_THR];
    oct_rep_kind tk[N_THR];
    const cJSON *thresholds = oct_rep_get(hist, "thresholds");
    for (int i = 0; i < N_THR; i++)
        tk[i] = i < N_THR - 1 ? oct_rep_numk(thresholds, thr_style[i].key, &thr[i])
                              : oct_rep_numk(hist, "plan", &thr[i]);
    if (n == 0) {
        oct_rep_puts(b, "<p class=\"none\">No histogram counts in the document.</p>\n");
    } else {
        double bw, absmax;
        oct_rep_kind kb = oct_rep_numk(hist, "bin_width", &bw);
        oct_rep_kind ka = oct_rep_numk(hist, "absmax", &absmax);
        if (kb != OCT_REP_FINITE || !(bw > 0))
            bw = ka == OCT_REP_FINITE && absmax > 0 ? absmax / n : 1;
        if (!(bw * n < 1e300)) bw = 1;
        double range = bw * n, xmax = range;
        int off[N_THR] = {0};
        for (int i = 0; i < N_THR; i++)
            if (tk[i] == OCT_REP_FINITE && thr[i] > xmax) xmax = thr[i];
        if (xmax > 3 * range) xmax = 3 * range;
        xmax *= 1.02;
        /* merge bins into at most 256 bars */
        int g = (n + 255) / 256, nb = (n + g - 1) / g;
        double *bars = calloc((size_t)nb, sizeof *bars), cmax = 0;
        if (!bars) {
            b->oom = 1;
            return;
        }
        int ci = 0;
        const cJSON *cnt;
        OCT_REP_EACH(cnt, counts) {
            double c;
            if (ci < n && oct_rep_num(cnt, &c) == OCT_REP_FINITE && c > 0)
                bars[ci / g] = fmin(bars[ci / g] + c, 1e300);
            ci++;
        }
        for (int i = 0; i < nb; i++)
            if (bars[i] > cmax) cmax = bars[i];
        const int W = 1100, H = 250, L = 58, R = 18, T = 14, B = 42;
        const double pw = W - L - R, ph = H - T - B, lmax = log10(1 + (cmax > 0 ? cmax : 1));
#define HX(v) (L + (v) / xmax * pw)
#define HY(c) (T + ph - log10(1 + (c)) / lmax * ph)
        svg_open(b, W, H, "chart histogram", "histogram of |x| with calibration thresholds");
        for (double p = 1; p == 1 || p <= cmax * 1.0001; p *= 10) {
            oct_rep_printf(b,
                           "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
                           "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
                           L, W - R, HY(p), HY(p), L - 6, HY(p) + 4);
            static const char *sfx[] = {"", "k", "M", "G", "T"};
            int e = (int)floor(log10(p) + 0.5);
            if (e < 15)
                oct_rep_printf(b, "%g%s</text>\n", pow(10, e % 3), sfx[e / 3]);
            else
                oct_rep_printf(b, "1e%d</text>\n", e);
            if (p > 1e300) break;
        }
        double xs = nice_step(xmax, 10);
        for (int i = 0; i < 60; i++) {
            double v = i * xs;
            if (v > xmax) break;
            oct_rep_printf(
                b,
                "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                HX(v), HX(v), H - B, H - B + 5, HX(v), H - B + 18, v);
        }
        oct_rep_printf(
            b,
            "<text class=\"label\" x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">|x|</text>\n"
            "<text class=\"label\" transform=\"translate(14 %.0f) rotate(-90)\" "
            "text-anchor=\"middle\">count (log)</text>\n",
            L + pw / 2, H - 6, T + ph / 2);
        double bar_w = g * bw / xmax * pw;
        for (int i = 0; i < nb; i++) {
            if (bars[i] <= 0) continue;
            double a = (double)i * g * bw, z = fmin((double)(i + 1) * g, n) * bw;
            oct_rep_printf(
                b,
                "<rect class=\"bar\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\">"
                "<title>[%.4g, %.4g): %.0f</title></rect>\n",
                HX(a), HY(bars[i]), bar_w > 0.6 ? bar_w : 0.6, T + ph - HY(bars[i]), a, z, bars[i]);
        }
        for (int i = 0; i < N_THR; i++) {
            if (tk[i] == OCT_REP_NONE || tk[i] == OCT_REP_NEGINF) continue;
            double x = tk[i] == OCT_REP_POSINF ? xmax : thr[i];
            if (x < 0) x = 0;
            if (x > xmax) x = xmax, off[i] = 1;
            if (tk[i] == OCT_REP_POSINF) off[i] = 1;
            oct_rep_printf(b,
                           "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
                           "stroke-width=\"%s\"%s%s%s><title>%s: ",
                           HX(x), HX(x), T, H - B, thr_style[i].color, i == N_THR - 1 ? "2.5" : "2",
                           *thr_style[i].dash ? " stroke-dasharray=\"" : "", thr_style[i].dash,
                           *thr_style[i].dash ? "\"" : "", thr_style[i].key);
            oct_rep_val(b, tk[i], thr[i], OCT_FMT_G);
            oct_rep_puts(b, off[i] ? " (beyond the chart)</title></line>\n" : "</title></line>\n");
        }
#undef HX
#undef HY
        oct_rep_puts(b, "</svg>\n");
        free(bars);
        if (g > 1)
            oct_rep_printf(b, "<p class=\"note\">%d bins shown as %d bars of %d bins each.</p>\n",
                           n, nb, g);
    }
    oct_rep_puts(b, "<div class=\"legend\">");
    for (int i = 0; i < N_THR; i++) {
        oct_rep_printf(b, "<span><i class=\"swatch%s\" style=\"border-color:%s\"></i>%s ",
                       *thr_style[i].dash ? " dashed" : "", thr_style[i].color,
                       i == N_THR - 1 ? "plan amax" : thr_style[i].key);
        oct_rep_val(b, tk[i], thr[i], OCT_FMT_G);
        oct_rep_puts(b, "</span>");
    }
    oct_rep_puts(b, "</div>\n");
}
