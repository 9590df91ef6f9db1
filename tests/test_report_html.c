/* Tests of the HTML report (src/io/report_html.c): the fixture
 * tests/data/analysis_small.json, degenerate documents built here and
 * randomly mutated copies of the fixture are rendered and the page is
 * checked: the six sections, escaping of every name, nothing loaded from
 * elsewhere, tags balanced and properly nested, chart coordinates all
 * finite numbers, and the content of each section.
 *
 *   test_report_html FIXTURE.json SCRATCH_DIR    run the tests
 *   test_report_html --render IN.json OUT.html   just render (for the
 *                                                 Chromium test)
 *   test_report_html --check DOC.json SCRATCH_DIR render any document (a
 *                                                 real analysis) and check
 *                                                 what holds for all pages
 *
 * Prints one line per failure and a closing "N passed, N failed". */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "io/report_html.h"

static const char *scratch;

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

/* Renders doc into the scratch folder and returns the page (caller frees). */
static char *render(const cJSON *doc, const char *label) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.html", scratch, label);
    oct_error err = {0};
    oct_status st = oct_report_html_write(doc, path, &err);
    CHECK(st == OCT_OK, "%s: render failed: %s", label, err.message);
    if (st) return NULL;
    char *html = read_file(path);
    CHECK(html != NULL, "%s: cannot read back %s", label, path);
    return html;
}

static char *render_json(const char *json, const char *label) {
    cJSON *doc = cJSON_Parse(json);
    CHECK(doc != NULL, "%s: test document does not parse", label);
    if (!doc) return NULL;
    char *html = render(doc, label);
    cJSON_Delete(doc);
    return html;
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
        n++;
    return n;
}

/* The text of section `id` (from its opening tag to its closing one), or an
 * empty string; the caller frees. */
static char *section(const char *html, const char *id) {
    char open[128];
    snprintf(open, sizeof open, "<section id=\"%s\">", id);
    const char *a = strstr(html, open);
    const char *z = a ? strstr(a, "</section>") : NULL;
    size_t n = a && z ? (size_t)(z - a) : 0;
    char *s = malloc(n + 1);
    if (!s) exit(2);
    if (n) memcpy(s, a, n);
    s[n] = 0;
    return s;
}

/* Escapes as HTML text the way any correct escaper would for & < > ". */
static char *esc(const char *s) {
    char *o = malloc(strlen(s) * 6 + 1), *p = o;
    if (!o) exit(2);
    for (; *s; s++) {
        const char *r = NULL;
        switch (*s) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&quot;"; break;
        case '\'': r = "&#39;"; break;
        default: *p++ = *s; continue;
        }
        p += sprintf(p, "%s", r);
    }
    *p = 0;
    return o;
}

/* ---- well-formedness --------------------------------------------------- */
static int is_void(const char *t) {
    static const char *v[] = {"meta", "link", "br",   "hr",   "img",   "input",
                              "col",  "wbr",  "area", "base", "source"};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        if (!strcmp(t, v[i])) return 1;
    return 0;
}

/* Whether an attribute holding coordinates parses as finite numbers only
 * (path data may hold command letters, transforms their function names). */
static int coords_ok(const char *name, const char *val) {
    static const char *numeric[] = {"x",  "y",  "cx", "cy",     "r", "width",     "height", "x1",
                                    "x2", "y1", "y2", "points", "d", "transform", "viewBox"};
    int is = 0;
    for (size_t i = 0; i < sizeof numeric / sizeof *numeric; i++)
        if (!strcmp(name, numeric[i])) is = 1;
    if (!is) return 1;
    const char *p = val;
    int numbers = 0;
    while (*p) {
        if (*p == ' ' || *p == ',' || *p == '(' || *p == ')') {
            p++;
            continue;
        }
        if (!strcmp(name, "d") && strchr("MLlhvHVz", *p)) {
            p++;
            continue;
        }
        if (!strcmp(name, "transform") && isalpha((unsigned char)*p)) {
            if (strncmp(p, "translate", 9) && strncmp(p, "rotate", 6)) return 0;
            while (isalpha((unsigned char)*p))
                p++;
            continue;
        }
        char *end;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v) || (isalpha((unsigned char)*p) && *p != 'e')) return 0;
        numbers++;
        p = end;
    }
    return numbers > 0;
}

/* Checks that tags are balanced and nested, attribute values quoted and free
 * of raw < >, text free of raw < > and of stray &, and chart coordinates
 * finite. Returns 1 when all is well, else 0 with the reason in why. */
static int well_formed(const char *html, char *why, size_t nwhy) {
    char stack[256][24];
    int depth = 0;
    const char *p = html;
    while (*p) {
        if (*p == '>') {
            snprintf(why, nwhy, "raw '>' in text at offset %ld", (long)(p - html));
            return 0;
        }
        if (*p == '&') {
            const char *q = p + 1;
            if (*q == '#') {
                q++;
                if (*q == 'x') {
                    q++;
                    while (isxdigit((unsigned char)*q))
                        q++;
                } else {
                    while (isdigit((unsigned char)*q))
                        q++;
                }
            } else {
                while (isalnum((unsigned char)*q))
                    q++;
            }
            if (*q != ';' || q == p + 1) {
                snprintf(why, nwhy, "stray '&' at offset %ld: %.30s", (long)(p - html), p);
                return 0;
            }
            p = q + 1;
            continue;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        if (!strncmp(p, "<!DOCTYPE", 9) || !strncmp(p, "<!--", 4)) {
            const char *z = strstr(p, p[2] == '-' ? "-->" : ">");
            if (!z) return snprintf(why, nwhy, "unterminated declaration"), 0;
            p = z + 1;
            continue;
        }
        int closing = p[1] == '/';
        const char *q = p + 1 + closing;
        char tag[24];
        size_t n = 0;
        while ((isalnum((unsigned char)*q) || *q == '-') && n < sizeof tag - 1)
            tag[n++] = *q++;
        tag[n] = 0;
        if (!n) {
            snprintf(why, nwhy, "raw '<' at offset %ld: %.30s", (long)(p - html), p);
            return 0;
        }
        if (closing) {
            if (*q != '>') return snprintf(why, nwhy, "bad closing tag </%s", tag), 0;
            if (!depth || strcmp(stack[depth - 1], tag)) {
                snprintf(why, nwhy, "</%s> closes <%s> at offset %ld", tag,
                         depth ? stack[depth - 1] : "(nothing)", (long)(p - html));
                return 0;
            }
            depth--;
            p = q + 1;
            continue;
        }
        /* attributes */
        int self = 0;
        for (;;) {
            while (*q == ' ' || *q == '\n')
                q++;
            if (*q == '>') break;
            if (q[0] == '/' && q[1] == '>') {
                self = 1;
                q++;
                break;
            }
            char name[32];
            size_t m = 0;
            while ((isalnum((unsigned char)*q) || *q == '-' || *q == ':') && m < sizeof name - 1)
                name[m++] = *q++;
            name[m] = 0;
            if (!m) return snprintf(why, nwhy, "bad attribute in <%s>: %.30s", tag, q), 0;
            if (*q != '=') continue; /* boolean attribute */
            if (q[1] != '"') return snprintf(why, nwhy, "unquoted %s in <%s>", name, tag), 0;
            const char *v = q + 2, *z = strchr(v, '"');
            if (!z) return snprintf(why, nwhy, "unterminated %s in <%s>", name, tag), 0;
            char val[4096];
            size_t vl = (size_t)(z - v) < sizeof val - 1 ? (size_t)(z - v) : sizeof val - 1;
            memcpy(val, v, vl);
            val[vl] = 0;
            if (strpbrk(val, "<>"))
                return snprintf(why, nwhy, "raw < or > in %s of <%s>", name, tag), 0;
            if (!coords_ok(name, val)) {
                snprintf(why, nwhy, "%s=\"%.60s\" of <%s> is not finite numbers", name, val, tag);
                return 0;
            }
            q = z + 1;
        }
        p = q + 1;
        if (!strcmp(tag, "script") || !strcmp(tag, "style")) {
            char end[32];
            snprintf(end, sizeof end, "</%s>", tag);
            const char *z = strstr(p, end);
            if (!z) return snprintf(why, nwhy, "<%s> not closed", tag), 0;
            p = z + strlen(end);
            continue;
        }
        if (self || is_void(tag)) continue;
        if (depth == 256) return snprintf(why, nwhy, "nesting too deep"), 0;
        snprintf(stack[depth++], sizeof stack[0], "%s", tag);
    }
    if (depth) return snprintf(why, nwhy, "<%s> never closed", stack[depth - 1]), 0;
    return 1;
}

/* A word standing alone (no letter on either side), outside data-v sort
 * keys: how a stray "nan" or "inf" from printf would show (printf writes
 * them in lower case; documents below spell their text "Inf"). */
static int bare_word(const char *html, const char *w) {
    size_t n = strlen(w);
    for (const char *p = html; (p = strstr(p, w)); p += n) {
        int before = p > html && isalpha((unsigned char)p[-1]);
        int after = isalpha((unsigned char)p[n]);
        if (before || after) continue;
        if (p - html >= 8 && (!strncmp(p - 8, "data-v=\"", 8) || !strncmp(p - 8, "ata-v=\"-", 8)))
            continue;
        return 1;
    }
    return 0;
}

/* What every rendered page must satisfy. */
static void check_page(const char *html, const char *label) {
    if (!html) return;
    static const char *ids[] = {"summary",     "diagnosis",  "sqnr",
                                "sensitivity", "histograms", "plan"};
    for (int i = 0; i < 6; i++) {
        char s[96];
        snprintf(s, sizeof s, "<section id=\"%s\">\n<h2>", ids[i]);
        CHECK(count(html, s) == 1, "%s: section %s present %d times", label, ids[i],
              count(html, s));
    }
    CHECK(!strncmp(html, "<!DOCTYPE html>", 15), "%s: no doctype", label);
    CHECK(strstr(html, "</html>\n") && !strcmp(strstr(html, "</html>\n"), "</html>\n"),
          "%s: does not end with </html>", label);
    CHECK(count(html, "<svg") == count(html, "</svg>"), "%s: %d <svg but %d </svg>", label,
          count(html, "<svg"), count(html, "</svg>"));
    static const char *external[] = {"http://", "https://", "<script src", "@import",
                                     "url(",    "src=\"",   "//fonts"};
    for (size_t i = 0; i < sizeof external / sizeof *external; i++)
        CHECK(!strstr(html, external[i]), "%s: external reference %s", label, external[i]);
    char why[256] = "";
    CHECK(well_formed(html, why, sizeof why), "%s: not well formed: %s", label, why);
    /* the page up to the script, which has its own "inf" */
    const char *script = strstr(html, "<script>");
    size_t n = script ? (size_t)(script - html) : strlen(html);
    char *body = malloc(n + 1);
    if (!body) exit(2);
    memcpy(body, html, n);
    body[n] = 0;
    CHECK(!bare_word(body, "nan"), "%s: a NaN was printed", label);
    CHECK(!bare_word(body, "inf"), "%s: an inf was printed", label);
    CHECK(!strstr(body, "(null)"), "%s: a NULL string was printed", label);
    free(body);
}

/* Renders a document from a file and checks what holds for every document:
 * the page (check_page) and every tensor name in it, escaped. */
static void check_document(const char *path) {
    char *json = read_file(path);
    cJSON *doc = json ? cJSON_Parse(json) : NULL;
    free(json);
    CHECK(doc != NULL, "cannot read or parse %s", path);
    if (!doc) return;
    char *html = render(doc, "document");
    check_page(html, path);
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(doc, "tensors")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(t, "name"));
        if (!name || !html) continue;
        char *e = esc(name);
        CHECK(strstr(html, e) != NULL, "tensor %s not in the page", name);
        free(e);
    }
    free(html);
    cJSON_Delete(doc);
}

/* ---- the fixture ------------------------------------------------------- */
static void test_fixture(const char *fixture) {
    char *json = read_file(fixture);
    CHECK(json != NULL, "cannot read %s", fixture);
    if (!json) return;
    cJSON *doc = cJSON_Parse(json);
    free(json);
    CHECK(doc != NULL, "%s does not parse", fixture);
    if (!doc) return;
    char *html = render(doc, "fixture");
    if (!html) {
        cJSON_Delete(doc);
        return;
    }
    check_page(html, "fixture");

    /* every name in the document appears escaped; none raw */
    int names = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(doc, "tensors")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(t, "name"));
        if (!name) continue;
        char *e = esc(name);
        CHECK(strstr(html, e) != NULL, "tensor %s not in the page", name);
        char *sq = section(html, "sqnr");
        CHECK(strstr(sq, e) != NULL, "tensor %s not in the SQNR section", name);
        free(sq);
        free(e);
        names++;
    }
    CHECK(names == 11, "fixture: %d tensor names", names);
    CHECK(!strstr(html, "weird<"), "a raw '<' from a name reached the page");
    CHECK(strstr(html, "weird&lt;name&gt;&amp;&quot;q&quot;/Mul_output_0") != NULL,
          "the odd name is not escaped as expected");
    CHECK(strstr(html, "<td class=\"name\">weird&lt;node&gt;</td>") != NULL,
          "the odd node name is not in the plan table");

    /* summary */
    char *s = section(html, "summary");
    CHECK(strstr(s, "models/yolov8n.onnx") && strstr(s, "out/yolov8n.plan.json"),
          "summary: model or plan missing");
    CHECK(strstr(s, "mAP@.50:.95") && strstr(s, "0.3712") && strstr(s, "0.2431"),
          "summary: metric missing");
    CHECK(strstr(s, "65.49%") != NULL, "summary: plan/FP32 ratio missing");
    CHECK(strstr(s, "1.58&times;") != NULL, "summary: latency speed-up missing");
    CHECK(strstr(s, ">entropy<") && strstr(s, ">all<") && strstr(s, ">per-channel<"),
          "summary: calibration missing");
    CHECK(strstr(s, "8.40 G") && strstr(s, "21.00 M (0.25% of all)"),
          "summary: FLOPs outside INT8 missing");
    CHECK(strstr(s, "<td class=\"n q\" data-v=\"3.1000000000000001\">3.1</td>") != NULL,
          "summary: output SQNR missing");
    CHECK(strstr(s, "98.00%") != NULL, "summary: output zeroed rate missing");
    CHECK(strstr(s, "target met") && !strstr(s, "target not met"), "summary: tune result missing");
    CHECK(count(s, "<tr>") >= 3 && strstr(s, "sensitivity fallback") && strstr(s, ">5.00%<"),
          "summary: tune steps missing");
    CHECK(strstr(s, "<li class=\"mono\">/model.23/Sigmoid</li>") != NULL,
          "summary: tune fallback nodes missing");
    free(s);

    /* diagnosis: one card each, errors first */
    s = section(html, "diagnosis");
    const char *ce = strstr(s, "card error"), *cw = strstr(s, "card warning"),
               *ci = strstr(s, "card info");
    CHECK(ce && cw && ci && ce < cw && cw < ci, "diagnosis: cards missing or out of order");
    CHECK(count(s, "<div class=\"card ") == 3, "diagnosis: %d cards",
          count(s, "<div class=\"card "));
    CHECK(strstr(s, "shared-scale") && strstr(s, "levels_small_part") && strstr(s, "6.38") &&
              strstr(s, "Keep /model.23/Concat_3"),
          "diagnosis: rule, numbers or fix missing");
    CHECK(strstr(s, "1 error, 1 warning, 1 note.") != NULL, "diagnosis: counts missing");
    CHECK(!strstr(s, "No problems found"), "diagnosis: 'no problems' with problems");
    free(s);

    /* SQNR chart: one circle per finite SQNR, a triangle for "inf", null
     * not plotted; the table has every tensor */
    s = section(html, "sqnr");
    CHECK(count(s, "<circle") == 9, "sqnr: %d points, expected 9", count(s, "<circle"));
    CHECK(count(s, "class=\"infinite\"") == 1, "sqnr: the inf tensor is not on the top edge");
    CHECK(count(s, "fill=\""
                   "#e8731a"
                   "\"") == 3,
          "sqnr: %d float points, expected 3", count(s, "fill=\"#e8731a\""));
    CHECK(count(s, "class=\"limit\"") == 1, "sqnr: no 20 dB line");
    CHECK(strstr(s, "1 tensor without an SQNR not plotted") != NULL, "sqnr: null not noted");
    CHECK(count(s, "<tr") == 12, "sqnr: table has %d rows", count(s, "<tr"));
    CHECK(count(s, "<tr class=\"bad\">") == 4, "sqnr: %d rows below 20 dB, expected 4",
          count(s, "<tr class=\"bad\">"));
    CHECK(strstr(s, "<title>/model.23/Concat_3_output_0\nConcat, int8, SQNR 3.2 dB</title>") !=
              NULL,
          "sqnr: tooltip missing");
    CHECK(strstr(s, ">95.00%<") && strstr(s, ">810.2<") && strstr(s, ">783<"),
          "sqnr: table numbers missing");
    free(s);

    /* sensitivity: two charts, every entry a bar, inf full length */
    s = section(html, "sensitivity");
    CHECK(count(s, "chart ranking") == 2, "sensitivity: %d charts", count(s, "chart ranking"));
    CHECK(count(s, "class=\"rbar\"") == 10, "sensitivity: %d bars", count(s, "class=\"rbar\""));
    CHECK(strstr(s, "sqnr_db") && strstr(s, ">4<"), "sensitivity: score or images missing");
    CHECK(strstr(s, "weird&lt;consumer&gt;") != NULL, "sensitivity: nodes missing from tooltip");
    CHECK(!strstr(s, "Not computed"), "sensitivity: 'not computed' while computed");
    free(s);

    /* histograms: at most 256 bars, five threshold lines, a legend */
    s = section(html, "histograms");
    CHECK(count(s, "chart histogram") == 2, "histograms: %d charts", count(s, "chart histogram"));
    char *h1 = strstr(s, "<svg"), *h1z = h1 ? strstr(h1, "</svg>") : NULL;
    if (h1 && h1z) {
        char saved = *h1z;
        *h1z = 0;
        int bars = count(h1, "class=\"bar\"");
        CHECK(bars > 100 && bars <= 256, "histogram 1: %d bars", bars);
        CHECK(count(h1, "stroke=\"") == 5, "histogram 1: %d threshold lines",
              count(h1, "stroke=\""));
        CHECK(strstr(h1, "stroke-dasharray=\"6 3\"") != NULL, "histogram 1: plan line not dashed");
        *h1z = saved;
    }
    CHECK(strstr(s, "2048 bins shown as 256 bars of 8 bins each") != NULL,
          "histograms: merge note");
    CHECK(count(s, "class=\"legend\"") == 2 && count(s, "</i>plan amax ") == 2 &&
              count(s, "</i>percentile ") == 2 && count(s, "</i>mse ") == 2,
          "histograms: legends missing");
    CHECK(strstr(s, "mse: &infin; (beyond the chart)") != NULL, "histograms: inf threshold");
    free(s);

    /* plan: non-int8 rows highlighted, counts at the top */
    s = section(html, "plan");
    CHECK(count(s, "<tr class=\"hl\">") == 2, "plan: %d highlighted rows",
          count(s, "<tr class=\"hl\">"));
    CHECK(strstr(s, "10 nodes: <b>8</b> int8") != NULL, "plan: counts missing");
    CHECK(count(s, "<tr") == 13, "plan: %d rows (10 nodes, 1 weight, 2 headers)", count(s, "<tr"));
    CHECK(strstr(s, ">660.00 M<") != NULL, "plan: FLOPs missing");
    CHECK(strstr(s, "<h3>Weights</h3>") && strstr(s, "<td>per-channel</td>") &&
              strstr(s, "data-v=\"320\">320</td>"),
          "plan: the weights table is missing or wrong");
    free(s);
    free(html);

    /* the same without the optional parts */
    cJSON_DeleteItemFromObject(doc, "sensitivity");
    cJSON_DeleteItemFromObject(doc, "tune");
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "summary"), "latency_ms");
    cJSON_ReplaceItemInObject(doc, "diagnoses", cJSON_CreateArray());
    html = render(doc, "fixture_minus_optional");
    check_page(html, "fixture_minus_optional");
    if (html) {
        CHECK(strstr(html, "Not computed (run with --sensitivity).") != NULL,
              "no sensitivity: not said");
        CHECK(strstr(html, "No problems found.") != NULL, "no diagnoses: not said");
        CHECK(!strstr(html, "Tuning") && !strstr(html, "speed-up"), "absent tune/latency shown");
    }
    free(html);
    cJSON_Delete(doc);
}

/* ---- degenerate documents ---------------------------------------------- */
static void test_degenerate(void) {
    char *html = render_json("{}", "empty");
    check_page(html, "empty");
    if (html) {
        CHECK(strstr(html, "No problems found.") &&
                  strstr(html, "Not computed (run with --sensitivity).") &&
                  strstr(html, "No histograms in the document.") &&
                  strstr(html, "The document lists no plan nodes.") &&
                  strstr(html, "The document lists no weights.") &&
                  strstr(html, "The document has no summary.") &&
                  strstr(html, "the document lists no tensors"),
              "empty: a missing part is not reported");
        CHECK(!strstr(html, "<svg"), "empty: a chart without data");
    }
    free(html);

    /* odd values everywhere: null, "inf", huge, negative, wrong types */
    static const char odd[] =
        "{\"model\":null,\"plan\":7,\"images\":\"many\",\"seconds\":\"inf\",\"format\":\"other\","
        "\"summary\":{\"metric\":\"sqnr_db\",\"fp32\":null,\"plan\":\"inf\","
        " \"outputs\":[{\"name\":null,\"sqnr_db\":\"inf\",\"cosine\":null},7,null],"
        " \"flops_total\":0,\"flops_outside_int8\":\"x\",\"latency_ms\":{\"fp32\":5,\"plan\":0}},"
        "\"tensors\":[{\"name\":\"a<&\\\">b\",\"order\":null,\"sqnr_db\":\"inf\",\"precision\":"
        "\"int8\"},"
        " {\"name\":\"c\",\"sqnr_db\":\"-inf\",\"order\":1e300},{\"sqnr_db\":-1e308,\"order\":-3},"
        " {\"name\":\"d\",\"sqnr_db\":1e308,\"order\":5,\"observed\":7,\"calib\":{\"p9999\":"
        "\"inf\"}},"
        " 42,\"str\",null,[],{\"name\":\"e\",\"sqnr_db\":1e999}],"
        "\"diagnoses\":[{},1,{\"severity\":\"fatal\",\"rule\":\"x<y\",\"nodes\":\"n\","
        " \"numbers\":{\"a\":[1,\"inf\",null,{\"b\":2}],\"c\":true}},"
        " {\"severity\":\"error\",\"numbers\":[],\"fallback\":{}}],"
        "\"sensitivity\":{\"score\":null,\"images\":null,\"only\":[{\"tensor\":\"a<&\\\">b\","
        " \"score\":\"inf\"},{\"score\":null},{\"tensor\":\"n\",\"score\":-1e308},"
        " {\"tensor\":\"m\",\"score\":1e308}],\"except\":\"no\"},"
        "\"histograms\":[{\"tensor\":\"a<&\\\">b\",\"counts\":[]},{\"counts\":[0,0,0],\"bin_"
        "width\":0},"
        " {\"counts\":[1e308,1e308,-5,\"x\",null],\"absmax\":\"inf\",\"thresholds\":{\"minmax\":-3,"
        "  \"entropy\":\"inf\",\"percentile\":1e308,\"mse\":null},\"plan\":\"-inf\"},"
        " {\"counts\":[1,2,3],\"bin_width\":1e308,\"thresholds\":7},{\"counts\":\"x\"},7],"
        "\"plan_nodes\":[{\"node\":\"n<1>\",\"flops\":\"inf\"},{},7,{\"precision\":\"a\"},"
        " {\"precision\":\"b\"},{\"precision\":\"c\"},{\"precision\":\"d\"},{\"precision\":\"e\"},"
        " {\"precision\":\"f\"},{\"precision\":\"g\"},{\"precision\":\"h\"},{\"precision\":\"i\"}],"
        "\"weights_info\":[{\"node\":\"w<1>\",\"absmax_min\":0,\"absmax_max\":\"inf\","
        " \"per_tensor\":\"x\",\"channels\":null},7,{\"absmax_min\":1e-300,\"absmax_max\":1e300}],"
        "\"tune\":{\"steps\":[{},null],\"met\":\"maybe\",\"fallback_nodes\":[null,1]}}";
    html = render_json(odd, "odd");
    check_page(html, "odd");
    if (html) {
        CHECK(strstr(html, "a&lt;&amp;&quot;&gt;b") && !strstr(html, "a<&"),
              "odd: the name with <&\"> is not escaped");
        CHECK(strstr(html, "x&lt;y") != NULL, "odd: the rule is not escaped");
        CHECK(strstr(html, "n&lt;1&gt;") != NULL, "odd: the node is not escaped");
        CHECK(strstr(html, "w&lt;1&gt;") != NULL, "odd: the weight node is not escaped");
        CHECK(
            strstr(html,
                   "<b>3</b> unknown, <b>1</b> a, <b>1</b> b, <b>1</b> c, <b>1</b> d, <b>1</b> e, "
                   "<b>1</b> f, <b>3</b> other.") != NULL,
            "odd: precisions beyond the seventh not counted as other");
        CHECK(strstr(html, "&quot;other&quot;, not &quot;octet-analysis&quot;") != NULL,
              "odd: foreign format not noted");
        char *sq = section(html, "sqnr");
        CHECK(count(sq, "<circle") == 2 && count(sq, "class=\"infinite\"") == 3,
              "odd: %d points, %d infinite", count(sq, "<circle"), count(sq, "class=\"infinite\""));
        free(sq);
    }
    free(html);

    /* the wrong type for every part */
    html = render_json(
        "{\"tensors\":{\"name\":\"x\",\"sqnr_db\":3},\"diagnoses\":{\"a\":{\"rule\":\"r\"}},"
        "\"summary\":[],\"sensitivity\":[],\"histograms\":{\"counts\":[1]},"
        "\"plan_nodes\":\"x\",\"tune\":[],\"model\":{\"a\":1}}",
        "wrong_types");
    check_page(html, "wrong_types");
    if (html)
        CHECK(strstr(html, "No problems found.") && strstr(html, "Not computed") &&
                  !strstr(html, "<svg"),
              "wrong_types: parts of the wrong type were not treated as absent");
    free(html);

    /* control characters and invalid UTF-8 in a name; valid UTF-8 kept */
    cJSON *doc = cJSON_CreateObject();
    cJSON *ts = cJSON_AddArrayToObject(doc, "tensors");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", "bad\x01\xff\xc3(\xe2\x82\xac");
    cJSON_AddNumberToObject(t, "sqnr_db", 12.0);
    cJSON_AddNumberToObject(t, "order", 0);
    cJSON_AddItemToArray(ts, t);
    html = render(doc, "bad_utf8");
    check_page(html, "bad_utf8");
    if (html) {
        CHECK(strstr(html, "bad&#xFFFD;&#xFFFD;&#xFFFD;(\xe2\x82\xac") != NULL,
              "bad_utf8: not replaced as expected");
        CHECK(!strchr(html, '\x01') && !strchr(html, '\xff'), "bad_utf8: raw bytes in the page");
        /* a single tensor: the x range is not empty */
        CHECK(count(html, "<circle") == 1, "single tensor: not plotted");
    }
    free(html);
    cJSON_Delete(doc);

    /* a large document: 2000 tensors, a 5000-bin histogram, 30-entry rankings */
    doc = cJSON_CreateObject();
    ts = cJSON_AddArrayToObject(doc, "tensors");
    for (int i = 0; i < 2000; i++) {
        char name[64];
        snprintf(name, sizeof name, "/model.%d/conv/Conv_output_0", i);
        t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", name);
        cJSON_AddNumberToObject(t, "order", i);
        cJSON_AddNumberToObject(t, "sqnr_db", 45.0 - i * 0.02);
        cJSON_AddStringToObject(t, "precision", i % 10 ? "int8" : "fp32");
        cJSON_AddItemToArray(ts, t);
    }
    cJSON *hs = cJSON_AddArrayToObject(doc, "histograms");
    cJSON *h = cJSON_CreateObject();
    cJSON *counts = cJSON_AddArrayToObject(h, "counts");
    for (int i = 0; i < 5000; i++)
        cJSON_AddItemToArray(counts, cJSON_CreateNumber(5000 - i));
    cJSON_AddNumberToObject(h, "absmax", 50);
    cJSON_AddItemToArray(hs, h);
    cJSON *sens = cJSON_AddObjectToObject(doc, "sensitivity");
    cJSON_AddStringToObject(sens, "score", "map50_95");
    cJSON *only = cJSON_AddArrayToObject(sens, "only");
    cJSON *except = cJSON_AddArrayToObject(sens, "except");
    for (int i = 0; i < 30; i++) {
        char name[96];
        snprintf(name, sizeof name,
                 "/model.%d/a/very/long/path/to/a/tensor/in/a/deep/graph/Conv_output_0", i);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "tensor", name);
        cJSON_AddNumberToObject(e, "score", 0.1 + i * 0.01);
        cJSON_AddItemToArray(only, e);
        cJSON_AddItemToArray(except, cJSON_Duplicate(e, 1));
    }
    html = render(doc, "large");
    check_page(html, "large");
    if (html) {
        char *hi = section(html, "histograms");
        int bars = count(hi, "class=\"bar\"");
        CHECK(bars > 0 && bars <= 256, "large: %d histogram bars", bars);
        free(hi);
        char *se = section(html, "sensitivity");
        CHECK(count(se, "class=\"rbar\"") == 40, "large: %d ranking bars, expected 2 x 20",
              count(se, "class=\"rbar\""));
        CHECK(strstr(se, "top 20 of 30 shown") != NULL, "large: truncation not said");
        CHECK(strstr(se, "&hellip;") != NULL, "large: long names not shortened");
        free(se);
        CHECK(count(html, "<circle") == 2000, "large: %d points", count(html, "<circle"));
    }
    free(html);
    cJSON_Delete(doc);
}

/* ---- mutated fixtures ----------------------------------------------- */
static unsigned rng_state = 12345;
static unsigned next_rand(void) {
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 16) & 0x7fff;
}

static cJSON *odd_value(void) {
    switch (next_rand() % 10) {
    case 0: return cJSON_CreateNull();
    case 1: return cJSON_CreateString("Inf"); /* read as +inf, shown as is in text */
    case 2: return cJSON_CreateNumber(-1e308);
    case 3: return cJSON_CreateString("");
    case 4: return cJSON_CreateArray();
    case 5: return cJSON_CreateObject();
    case 6: return cJSON_CreateString("<b>&\"x\"</b>");
    case 7: return cJSON_CreateNumber(1e308);
    case 8: return cJSON_CreateString("-Inf");
    default: return cJSON_CreateFalse();
    }
}

/* Replaces each value of the tree, with probability 1/rate, by an odd one. */
static void mutate(cJSON *node, unsigned rate) {
    cJSON *c = node->child;
    while (c) {
        cJSON *next = c->next;
        if (next_rand() % rate == 0) {
            if (cJSON_IsObject(node))
                cJSON_ReplaceItemInObjectCaseSensitive(node, c->string, odd_value());
            else
                cJSON_ReplaceItemViaPointer(node, c, odd_value());
        } else {
            mutate(c, rate);
        }
        c = next;
    }
}

/* The fixture with values replaced at random (a fixed seed): every page
 * must still be valid. */
static void test_mutations(const char *fixture) {
    char *json = read_file(fixture);
    cJSON *base = json ? cJSON_Parse(json) : NULL;
    free(json);
    if (!base) return; /* test_fixture reported it */
    static const unsigned rates[] = {3, 10, 40, 200};
    int before = n_fail, rounds = 80;
    const char *env = getenv("OCT_REPORT_MUTATIONS"); /* more for a deeper run */
    if (env && atoi(env) > 0) rounds = atoi(env);
    for (int i = 0; i < rounds && n_fail - before < 20; i++) {
        cJSON *doc = cJSON_Duplicate(base, 1);
        mutate(doc, rates[i % 4]);
        char label[32];
        snprintf(label, sizeof label, "mutation%d", i);
        char *html = render(doc, label);
        check_page(html, label);
        free(html);
        cJSON_Delete(doc);
    }
    cJSON_Delete(base);
}

static void test_errors(void) {
    oct_error err = {0};
    cJSON *arr = cJSON_CreateArray();
    char path[1024];
    snprintf(path, sizeof path, "%s/never.html", scratch);
    CHECK(oct_report_html_write(NULL, path, &err) == OCT_E_INVALID_ARG, "NULL document accepted");
    CHECK(oct_report_html_write(arr, path, &err) == OCT_E_INVALID_ARG && err.message[0],
          "an array accepted as the document");
    cJSON *obj = cJSON_CreateObject();
    CHECK(oct_report_html_write(obj, NULL, &err) == OCT_E_INVALID_ARG, "NULL path accepted");
    snprintf(path, sizeof path, "%s/no/such/folder/r.html", scratch);
    memset(&err, 0, sizeof err);
    CHECK(oct_report_html_write(obj, path, &err) == OCT_E_IO && strstr(err.message, path),
          "unwritable path: status or message wrong (%s)", err.message);
    CHECK(oct_report_html_write(obj, path, NULL) == OCT_E_IO, "NULL err: wrong status");
    cJSON_Delete(arr);
    cJSON_Delete(obj);
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "--render")) {
        char *json = read_file(argv[2]);
        cJSON *doc = json ? cJSON_Parse(json) : NULL;
        free(json);
        if (!doc) {
            fprintf(stderr, "cannot read or parse %s\n", argv[2]);
            return 1;
        }
        oct_error err = {0};
        oct_status st = oct_report_html_write(doc, argv[3], &err);
        cJSON_Delete(doc);
        if (st) fprintf(stderr, "%s\n", err.message);
        return st ? 1 : 0;
    }
    if (argc == 4 && !strcmp(argv[1], "--check")) { /* any document, e.g. a real analysis */
        scratch = argv[3];
        mkdir(scratch, 0755);
        check_document(argv[2]);
        return check_summary();
    }
    if (argc != 3) {
        fprintf(stderr,
                "usage: %s FIXTURE.json SCRATCH_DIR | --render IN.json OUT.html | "
                "--check DOC.json SCRATCH_DIR\n",
                argv[0]);
        return 2;
    }
    scratch = argv[2];
    mkdir(scratch, 0755);
    test_fixture(argv[1]);
    test_degenerate();
    test_mutations(argv[1]);
    test_errors();
    return check_summary();
}
