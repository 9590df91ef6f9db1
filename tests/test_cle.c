/* Cross-layer equalization (src/quant/cle.c) and the ONNX model editor it
 * writes with (src/onnx/model_edit.c).
 *
 * Synthetic models built here (tests/cle_build.c): Conv -> Relu -> Conv,
 * Conv -> Clip(0,6) -> depthwise Conv -> Clip -> Conv (bounds as inputs and,
 * opset 10, as attributes), Conv -> grouped Conv without activation,
 * LeakyRelu / PRelu pairs beside Sigmoid and SiLU ones, a graph-output
 * intermediate and shared weights. For each: the FP32 output of the CLE
 * model against the original (relative L2 <= 1e-5), the pair counts, and
 * for an isolated pair the equalized ranges (r1'_i == r2'_i).
 * Real models from $OCTET_SHARED (default ../shared beside the repository;
 * a missing one prints a SKIP line): mobilenetv2-12 (> 20 pairs), yolov5n
 * and yolov10n (SiLU: few or none), FP32 outputs against the original.
 * The model_edit unit tests are in test_cle_edit.c, the real models in
 * test_cle_real.c. Prints "N passed, N failed"; argv[1] is a scratch folder;
 * `test_cle --apply in.onnx out.onnx` only runs CLE (for cle_vs_ort.py). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cle_test.h"

int n_pass, n_fail;
char tmpdir[512];

/* ---- running models ---- */

void outputs_free(outputs *o) {
    for (int i = 0; i < o->n; i++)
        free(o->v[i]);
    memset(o, 0, sizeof *o);
}

/* Runs m on one float input of the given shape filled from x; copies every
 * float output. */
oct_status run_model(const oct_model *m, int nd, const int64_t *dims, const float *x, outputs *out,
                     oct_error *err) {
    memset(out, 0, sizeof *out);
    const char *name = NULL;
    oct_dtype dt;
    int ndim;
    int64_t d[OCT_MAX_DIMS];
    OCT_TRY(oct_model_input_info(m, 0, &name, &dt, &ndim, d, err));
    oct_input_shape shape = {name, nd, {0}};
    memcpy(shape.dims, dims, (size_t)nd * sizeof *dims);
    oct_session_options o;
    oct_session_options_init(&o);
    o.threads = 2;
    o.n_shapes = 1;
    o.shapes = &shape;
    oct_session *s = NULL;
    OCT_TRY(oct_session_create(m, &o, &s, err));
    oct_tensor_view in = {OCT_FLOAT, nd, {0}, (void *)x};
    memcpy(in.dims, dims, (size_t)nd * sizeof *dims);
    oct_status st = oct_session_set_input(s, name, &in, err);
    if (!st) st = oct_session_run(s, err);
    for (int i = 0; !st && i < oct_session_num_outputs(s) && i < 8; i++) {
        oct_tensor_view v;
        st = oct_session_get_output(s, i, &v, err);
        if (st || v.dtype != OCT_FLOAT) continue;
        size_t n = (size_t)oct_shape_numel(v.ndim, v.dims);
        out->v[out->n] = malloc((n ? n : 1) * sizeof(float));
        if (!out->v[out->n])
            st = oct_fail(err, OCT_E_NOMEM, "out of memory");
        else
            memcpy(out->v[out->n], v.data, n * sizeof(float));
        out->len[out->n++] = n;
    }
    oct_session_free(s);
    if (st) outputs_free(out);
    return st;
}

double rel_l2(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)a[i] * a[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* The largest relative L2 over the outputs of two models on input x; -1
 * when something fails (reported). */
double compare(const char *what, const oct_model *a, const oct_model *b, int nd,
               const int64_t *dims, const float *x) {
    outputs oa, ob;
    oct_error err = {0};
    if (run_model(a, nd, dims, x, &oa, &err)) {
        CHECK(0, "%s: original: %s", what, err.message);
        return -1;
    }
    if (run_model(b, nd, dims, x, &ob, &err)) {
        CHECK(0, "%s: CLE model: %s", what, err.message);
        outputs_free(&oa);
        return -1;
    }
    double worst = 0;
    CHECK(oa.n == ob.n && oa.n > 0, "%s: %d outputs against %d", what, oa.n, ob.n);
    for (int i = 0; i < oa.n && i < ob.n; i++) {
        CHECK(oa.len[i] == ob.len[i], "%s: output %d sizes %zu, %zu", what, i, oa.len[i],
              ob.len[i]);
        if (oa.len[i] == ob.len[i]) worst = fmax(worst, rel_l2(oa.v[i], ob.v[i], oa.len[i]));
    }
    outputs_free(&oa);
    outputs_free(&ob);
    return worst;
}

float *random_input(size_t n, float lo, float hi) {
    float *x = malloc(n * sizeof *x);
    if (!x) exit(2);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * tb_rand();
    return x;
}

const oct_tensor *weight(const oct_model *m, const char *name) {
    int v = oct_graph_find(m->g, name);
    return v >= 0 && m->g->values[v].is_const ? &m->g->values[v].t : NULL;
}

/* ---- synthetic models ---- */

typedef struct cle_case {
    oct_model *orig, *cle;
    oct_cle_report rep;
    double diff;
} cle_case;

static void case_free(cle_case *c) {
    oct_model_free(c->orig);
    oct_model_free(c->cle);
    oct_cle_report_free(&c->rep);
}

/* CLE of the model in bytes (freed here), both models loaded, their
 * outputs compared on a random input in [-1, 1). */
static int cle_case_run(const char *what, unsigned char *bytes, size_t len, int nd,
                        const int64_t *dims, cle_case *c) {
    memset(c, 0, sizeof *c);
    oct_error err = {0};
    void *out = NULL;
    size_t olen = 0;
    oct_status st = oct_cle_apply_memory(bytes, len, &out, &olen, &c->rep, &err);
    CHECK(!st, "%s: CLE: %s", what, err.message);
    if (!st) st = oct_model_load_memory(bytes, len, &c->orig, &err);
    if (!st) st = oct_model_load_memory(out, olen, &c->cle, &err);
    CHECK(!st, "%s: loading: %s", what, err.message);
    free(out);
    free(bytes);
    c->diff = -1;
    if (st) return 0;
    float *x = random_input((size_t)oct_shape_numel(nd, dims), -1, 1);
    c->diff = compare(what, c->orig, c->cle, nd, dims, x);
    free(x);
    CHECK(c->diff >= 0 && c->diff <= 1e-5, "%s: outputs moved by relative L2 %g", what, c->diff);
    return 1;
}

/* Largest relative gap |r1_i - r2_i| / max(r1_i, r2_i) over the channels
 * between Conv1's weights w1 and Conv2's w2 (group2 groups). */
static double range_gap(const oct_model *m, const char *w1n, const char *w2n, int group2) {
    const oct_tensor *w1 = weight(m, w1n), *w2 = weight(m, w2n);
    if (!w1 || !w2) return 1e9;
    int64_t c = w1->dims[0], per1 = oct_numel(w1) / c, cpg = w2->dims[1];
    int64_t opg = w2->dims[0] / group2, k2 = w2->dims[2] * w2->dims[3];
    const float *a = w1->data, *b = w2->data;
    double worst = 0;
    for (int64_t i = 0; i < c; i++) {
        double r1 = 0, r2 = 0;
        for (int64_t t = 0; t < per1; t++)
            r1 = fmax(r1, fabs(a[i * per1 + t]));
        int64_t gi = i / cpg, j = i % cpg;
        for (int64_t o = gi * opg; o < (gi + 1) * opg; o++)
            for (int64_t t = 0; t < k2; t++)
                r2 = fmax(r2, fabs(b[(o * cpg + j) * k2 + t]));
        worst = fmax(worst, fabs(r1 - r2) / fmax(r1, r2));
    }
    return worst;
}

static int count_op(const oct_model *m, const char *op) {
    int n = 0;
    for (int i = 0; i < m->g->n_nodes; i++)
        n += !strcmp(m->g->nodes[i].op_type, op);
    return n;
}

static void test_relu(void) {
    tb *b = tb_new(13);
    int64_t xd[4] = {1, 3, 10, 10};
    tb_input(b, "x", 4, xd);
    tb_conv(b, "c1", "x", "t1", 3, 8, 3, 1, 1);
    const char *in[1] = {"t1"};
    tb_node(b, "Relu", "r1", 1, in, "t2");
    tb_conv(b, "c2", "t2", "y", 8, 6, 3, 1, 1);
    tb_output(b, "y");
    size_t len;
    unsigned char *bytes = tb_finish(b, &len);
    cle_case c;
    if (cle_case_run("relu", bytes, len, 4, xd, &c)) {
        CHECK(c.rep.n_pairs == 1 && c.rep.n_skipped == 0, "relu: %d pairs, %d skipped",
              c.rep.n_pairs, c.rep.n_skipped);
        if (c.rep.n_pairs == 1) {
            const oct_cle_pair *p = &c.rep.pairs[0];
            CHECK(!strcmp(p->conv1, "c1") && !strcmp(p->conv2, "c2") && !strcmp(p->act, "Relu") &&
                      p->channels == 8,
                  "relu: pair %s -%s-> %s, %d channels", p->conv1, p->act, p->conv2, p->channels);
            CHECK(p->ratio_after > p->ratio_before && p->ratio_after > 1 - 1e-6,
                  "relu: mean ratio %.4f -> %.6f", p->ratio_before, p->ratio_after);
            printf("relu: ratio %.4f -> %.6f in %d sweeps\n", p->ratio_before, p->ratio_after,
                   c.rep.sweeps);
        }
        double gap = range_gap(c.cle, "c1_w", "c2_w", 1);
        CHECK(gap <= 1e-4, "relu: r1' and r2' differ by %g (relative)", gap);
        CHECK(range_gap(c.orig, "c1_w", "c2_w", 1) > 0.1,
              "relu: the original is already equalized");
        CHECK(c.rep.sweeps >= 1 && c.rep.sweeps <= 3, "relu: %d sweeps for one pair", c.rep.sweeps);
    }
    case_free(&c);
}

/* Conv -> Clip(0,6) -> depthwise -> Clip(0,6) -> Conv; the two Clips share
 * their bound initializers at opset 13, use attributes at opset 10. */
static void test_clip_chain(int opset) {
    char what[64];
    snprintf(what, sizeof what, "clip chain (opset %d)", opset);
    tb *b = tb_new(opset);
    int64_t xd[4] = {1, 4, 9, 9};
    tb_input(b, "x", 4, xd);
    float lo = 0, hi = 6;
    if (opset >= 11) {
        tb_tensor(b, "lo", 0, NULL, &lo, 0);
        tb_tensor(b, "hi", 0, NULL, &hi, 0);
    }
    tb_conv(b, "c1", "x", "t1", 4, 8, 1, 1, 1);
    const char *k1[3] = {"t1", "lo", "hi"}, *k2[3] = {"t3", "lo", "hi"};
    Onnx__NodeProto *n1 = tb_node(b, "Clip", "k1", opset >= 11 ? 3 : 1, k1, "t2");
    tb_conv(b, "dw", "t2", "t3", 8, 8, 3, 8, 1);
    Onnx__NodeProto *n2 = tb_node(b, "Clip", "k2", opset >= 11 ? 3 : 1, k2, "t4");
    if (opset < 11) {
        tb_attr_float(b, n1, "min", 0);
        tb_attr_float(b, n1, "max", 6);
        tb_attr_float(b, n2, "min", 0);
        tb_attr_float(b, n2, "max", 6);
    }
    tb_conv(b, "c3", "t4", "y", 8, 5, 1, 1, 1);
    tb_output(b, "y");
    size_t len;
    unsigned char *bytes = tb_finish(b, &len);
    cle_case c;
    if (cle_case_run(what, bytes, len, 4, xd, &c)) {
        CHECK(c.rep.n_pairs == 2 && c.rep.n_skipped == 0 && c.rep.clips_rewritten == 2,
              "%s: %d pairs, %d skipped, %d clips rewritten", what, c.rep.n_pairs, c.rep.n_skipped,
              c.rep.clips_rewritten);
        CHECK(c.rep.sweeps >= 2 && c.rep.last_max_log_scale < 1e-4,
              "%s: %d sweeps, last max |log s| %g", what, c.rep.sweeps, c.rep.last_max_log_scale);
        for (int i = 0; i < c.rep.n_pairs; i++) {
            const oct_cle_pair *p = &c.rep.pairs[i];
            CHECK(p->ratio_after > p->ratio_before && !strcmp(p->act, "Clip"),
                  "%s: %s -> %s ratio %.4f -> %.4f", what, p->conv1, p->conv2, p->ratio_before,
                  p->ratio_after);
            printf("%s: %s -> %s ratio %.4f -> %.4f\n", what, p->conv1, p->conv2, p->ratio_before,
                   p->ratio_after);
        }
        printf("%s: %d sweeps\n", what, c.rep.sweeps);
        CHECK(count_op(c.cle, "Clip") == 0 && count_op(c.cle, "Max") == 2 &&
                  count_op(c.cle, "Min") == 2,
              "%s: %d Clip, %d Max, %d Min after", what, count_op(c.cle, "Clip"),
              count_op(c.cle, "Max"), count_op(c.cle, "Min"));
        CHECK(!weight(c.cle, "lo") && !weight(c.cle, "hi"),
              "%s: the old Clip bounds are still there", what);
        CHECK(oct_graph_find(c.cle->g, "t2") >= 0 && oct_graph_find(c.cle->g, "k1_max_out") >= 0,
              "%s: the Clip's output name or the Max output is missing", what);
    }
    case_free(&c);
}

/* Conv (no bias) -> grouped Conv, nothing between. */
static void test_plain_grouped(void) {
    tb *b = tb_new(13);
    int64_t xd[4] = {1, 4, 8, 8};
    tb_input(b, "x", 4, xd);
    tb_conv(b, "c1", "x", "t1", 4, 6, 3, 1, 0);
    tb_conv(b, "c2", "t1", "y", 6, 4, 1, 2, 1);
    tb_output(b, "y");
    size_t len;
    unsigned char *bytes = tb_finish(b, &len);
    cle_case c;
    if (cle_case_run("plain grouped", bytes, len, 4, xd, &c)) {
        CHECK(c.rep.n_pairs == 1 && !strcmp(c.rep.pairs[0].act, ""), "plain grouped: %d pairs",
              c.rep.n_pairs);
        double gap = range_gap(c.cle, "c1_w", "c2_w", 2);
        CHECK(gap <= 1e-4, "plain grouped: r1' and r2' differ by %g (relative)", gap);
    }
    case_free(&c);
}

/* LeakyRelu and PRelu pairs are equalized; Sigmoid and SiLU ones are not. */
static void test_mixed(void) {
    tb *b = tb_new(13);
    int64_t xd[4] = {1, 3, 8, 8}, sd[3] = {6, 1, 1};
    float slope[6] = {0.1f, -0.2f, 0.3f, 0.05f, 0.5f, 1.5f};
    tb_input(b, "x", 4, xd);
    tb_tensor(b, "slope", 3, sd, slope, 0);
    tb_conv(b, "c1", "x", "t1", 3, 6, 3, 1, 1);
    const char *i1[1] = {"t1"}, *i2[2] = {"t3", "slope"}, *i3[1] = {"t5"}, *i4[1] = {"t7"},
               *i5[2] = {"t7", "s7"};
    tb_attr_float(b, tb_node(b, "LeakyRelu", "lrelu", 1, i1, "t2"), "alpha", 0.1f);
    tb_conv(b, "c2", "t2", "t3", 6, 6, 3, 1, 1);
    tb_node(b, "PRelu", "prelu", 2, i2, "t4");
    tb_conv(b, "c3", "t4", "t5", 6, 6, 3, 1, 1);
    tb_node(b, "Sigmoid", "sig", 1, i3, "t6");
    tb_conv(b, "c4", "t6", "t7", 6, 6, 3, 1, 1);
    tb_node(b, "Sigmoid", "silu_sig", 1, i4, "s7");
    tb_node(b, "Mul", "silu_mul", 2, i5, "t8");
    tb_conv(b, "c5", "t8", "y", 6, 4, 3, 1, 1);
    tb_output(b, "y");
    size_t len;
    unsigned char *bytes = tb_finish(b, &len);
    cle_case c;
    if (cle_case_run("mixed", bytes, len, 4, xd, &c)) {
        CHECK(c.rep.n_pairs == 2 && c.rep.n_skipped == 2 &&
                  c.rep.skipped_by_reason[OCT_CLE_SKIP_ACTIVATION] == 2,
              "mixed: %d pairs, %d skipped (%d for the activation)", c.rep.n_pairs, c.rep.n_skipped,
              c.rep.skipped_by_reason[OCT_CLE_SKIP_ACTIVATION]);
        for (int i = 0; i < c.rep.n_skipped; i++)
            printf("mixed: skipped %s -> %s: %s (%s)\n", c.rep.skipped[i].conv1,
                   c.rep.skipped[i].conv2, oct_cle_skip_reason_name(c.rep.skipped[i].reason),
                   c.rep.skipped[i].detail);
        const oct_tensor *s = weight(c.cle, "slope");
        CHECK(s && !memcmp(s->data, slope, sizeof slope), "mixed: the PRelu slope changed");
    }
    case_free(&c);
}

/* A Relu output that is also a graph output, and weights two Convs share. */
static void test_not_eligible(void) {
    tb *b = tb_new(13);
    int64_t xd[4] = {1, 4, 6, 6}, wd[4] = {4, 4, 1, 1};
    float ws[16];
    for (int i = 0; i < 16; i++)
        ws[i] = 2 * tb_rand() - 1;
    tb_input(b, "x", 4, xd);
    tb_tensor(b, "ws", 4, wd, ws, 0);
    tb_conv(b, "c1", "x", "t1", 4, 4, 3, 1, 1);
    const char *r[1] = {"t1"}, *s3[2] = {"x", "ws"}, *s4[2] = {"t3", "ws"};
    tb_node(b, "Relu", "r", 1, r, "a");
    tb_conv(b, "c2", "a", "y", 4, 4, 3, 1, 1);
    tb_node(b, "Conv", "c3", 2, s3, "t3");
    tb_node(b, "Conv", "c4", 2, s4, "y2");
    tb_output(b, "y");
    tb_output(b, "a");
    tb_output(b, "y2");
    size_t len;
    unsigned char *bytes = tb_finish(b, &len);
    cle_case c;
    if (cle_case_run("not eligible", bytes, len, 4, xd, &c)) {
        CHECK(c.rep.n_pairs == 0 && c.rep.skipped_by_reason[OCT_CLE_SKIP_FANOUT] == 1 &&
                  c.rep.skipped_by_reason[OCT_CLE_SKIP_WEIGHTS] == 1,
              "not eligible: %d pairs, %d skipped for fan-out, %d for weights", c.rep.n_pairs,
              c.rep.skipped_by_reason[OCT_CLE_SKIP_FANOUT],
              c.rep.skipped_by_reason[OCT_CLE_SKIP_WEIGHTS]);
        CHECK(c.rep.sweeps == 0, "not eligible: %d sweeps without pairs", c.rep.sweeps);
    }
    case_free(&c);
}

/* The file API, and its errors. */
static void test_file_api(void) {
    tb *b = tb_new(13);
    int64_t xd[4] = {1, 2, 5, 5};
    tb_input(b, "x", 4, xd);
    tb_conv(b, "c1", "x", "t1", 2, 3, 3, 1, 1);
    const char *in[1] = {"t1"};
    tb_node(b, "Relu", "r1", 1, in, "t2");
    tb_conv(b, "c2", "t2", "y", 3, 2, 3, 1, 1);
    tb_output(b, "y");
    size_t len;
    unsigned char *bytes = tb_finish(b, &len);
    char src[600], dst[600];
    snprintf(src, sizeof src, "%s/cle_in.onnx", tmpdir);
    snprintf(dst, sizeof dst, "%s/cle_out.onnx", tmpdir);
    FILE *f = fopen(src, "wb");
    int ok = f && fwrite(bytes, 1, len, f) == len;
    if (f && fclose(f)) ok = 0;
    CHECK(ok, "cannot write %s", src);
    free(bytes);
    oct_cle_report rep;
    oct_error err = {0};
    oct_status st = oct_cle_apply(src, dst, &rep, &err);
    CHECK(!st && rep.n_pairs == 1, "file API: %s, %d pairs", st ? err.message : "ok", rep.n_pairs);
    oct_cle_report_free(&rep);
    oct_model *a = NULL, *m = NULL;
    st = oct_model_load_file(src, &a, &err);
    if (!st) st = oct_model_load_file(dst, &m, &err);
    CHECK(!st, "file API: %s", err.message);
    if (!st) {
        float *x = random_input(50, -1, 1);
        double d = compare("file API", a, m, 4, xd, x);
        CHECK(d >= 0 && d <= 1e-5, "file API: outputs moved by %g", d);
        free(x);
    }
    oct_model_free(a);
    oct_model_free(m);
    remove(src);
    remove(dst);
    memset(&err, 0, sizeof err);
    st = oct_cle_apply(src, dst, &rep, &err);
    CHECK(st == OCT_E_IO && strstr(err.message, "cle_in.onnx"), "missing file: %d %s", st,
          err.message);
    oct_cle_report_free(&rep);
    unsigned char junk[16] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
    void *out = NULL;
    size_t olen = 0;
    st = oct_cle_apply_memory(junk, sizeof junk, &out, &olen, NULL, &err);
    CHECK(st == OCT_E_PARSE && !out, "junk model: %d %s", st, err.message);
}

static void test_synthetic(void) {
    test_relu();
    test_clip_chain(13);
    test_clip_chain(10);
    test_plain_grouped();
    test_mixed();
    test_not_eligible();
    test_file_api();
}

/* test_cle --apply in.onnx out.onnx: CLE of one file, for
 * tests/cle_vs_ort.py. */
static int apply_only(const char *in, const char *out) {
    oct_cle_report rep;
    oct_error err = {0};
    oct_status st = oct_cle_apply(in, out, &rep, &err);
    if (st)
        printf("error: %s\n", err.message);
    else
        printf("pairs %d clips %d sweeps %d\n", rep.n_pairs, rep.clips_rewritten, rep.sweeps);
    oct_cle_report_free(&rep);
    return st ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "--apply")) return apply_only(argv[2], argv[3]);
    if (argc > 1) {
        snprintf(tmpdir, sizeof tmpdir, "%s", argv[1]);
        mkdir(tmpdir, 0755);
    } else {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/octet_cle_XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            printf("cannot create a temporary folder: %s\n", strerror(errno));
            return 2;
        }
    }
    test_model_edit();
    test_synthetic();
    test_real_models();
    if (argc <= 1) rmdir(tmpdir);
    return check_summary();
}
