/* The model editor (src/onnx/model_edit.c): set_tensor's checks and its
 * float_data / Constant cases, set_bias adding and replacing a bias (the
 * output moves by exactly the bias), Gemm's 2-D C refused, and
 * clip_per_channel on a Clip that writes a graph output. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cle_test.h"

/* x [1,3,5,5] -> Conv "conv" (weights "w" in float_data, no bias) -> y. */
static unsigned char *biasless_conv(size_t *len, const float *w) {
    tb *b = tb_new(13);
    int64_t xd[4] = {1, 3, 5, 5}, wd[4] = {4, 3, 3, 3}, one = 1;
    float taken = 0;
    tb_input(b, "x", 4, xd);
    tb_tensor(b, "w", 4, wd, w, 1);
    tb_tensor(b, "conv_bias", 1, &one, &taken, 0); /* the default name is taken */
    const char *in[2] = {"x", "w"};
    tb_node(b, "Conv", "conv", 2, in, "y");
    tb_output(b, "y");
    return tb_finish(b, len);
}

static oct_model *edited(oct_model_edit *e, const char *what) {
    void *bytes = NULL;
    size_t len = 0;
    oct_model *m = NULL;
    oct_error err = {0};
    oct_status st = oct_model_edit_write_memory(e, &bytes, &len, &err);
    if (!st) st = oct_model_load_memory(bytes, len, &m, &err);
    CHECK(!st, "%s: %s", what, err.message);
    free(bytes);
    return m;
}

static void test_set_bias(void) {
    float w[108];
    for (int i = 0; i < 108; i++)
        w[i] = 2 * tb_rand() - 1;
    size_t len;
    unsigned char *bytes = biasless_conv(&len, w);
    oct_model_edit *e = NULL;
    oct_model *orig = NULL, *m = NULL;
    oct_error err = {0};
    oct_status st = oct_model_edit_open_memory(bytes, len, &e, &err);
    if (!st) st = oct_model_load_memory(bytes, len, &orig, &err);
    CHECK(!st, "set_bias: %s", err.message);
    free(bytes);
    if (st) goto done;
    float bias[4] = {0.5f, -1.25f, 3.0f, 0.0f}, bad[3] = {0};
    st = oct_model_edit_set_tensor(e, "w", bad, 3, &err);
    CHECK(st == OCT_E_SHAPE && strstr(err.message, "'w'") && strstr(err.message, "108"),
          "set_tensor with 3 values: %d %s", st, err.message);
    st = oct_model_edit_set_tensor(e, "nope", bad, 3, &err);
    CHECK(st == OCT_E_NOT_FOUND && strstr(err.message, "'nope'"), "set_tensor on nothing: %s",
          err.message);
    st = oct_model_edit_set_bias(e, "conv", bad, 3, &err);
    CHECK(st == OCT_E_SHAPE && strstr(err.message, "'conv'"), "set_bias with 3 values: %s",
          err.message);
    st = oct_model_edit_set_bias(e, "nothing", bias, 4, &err);
    CHECK(st == OCT_E_NOT_FOUND && strstr(err.message, "'nothing'"), "set_bias on nothing: %s",
          err.message);
    st = oct_model_edit_set_bias(e, "conv", bias, 4, &err);
    CHECK(!st, "set_bias: %s", err.message);
    m = edited(e, "set_bias");
    if (!m) goto done;
    const oct_tensor *bt = weight(m, "conv_bias_1");
    CHECK(bt && bt->ndim == 1 && bt->dims[0] == 4 && !memcmp(bt->data, bias, sizeof bias),
          "set_bias: no bias 'conv_bias_1' of 4 values");
    CHECK(m->g->n_nodes == 1 && m->g->nodes[0].n_in == 3, "set_bias: the Conv has %d inputs",
          m->g->nodes[0].n_in);
    int64_t xd[4] = {1, 3, 5, 5};
    float *x = random_input(75, -1, 1);
    outputs a, o;
    st = run_model(orig, 4, xd, x, &a, &err);
    if (!st) {
        st = run_model(m, 4, xd, x, &o, &err);
        if (st) outputs_free(&a);
    }
    CHECK(!st, "set_bias: running: %s", err.message);
    if (!st) {
        double worst = 0;
        size_t plane = a.len[0] / 4; /* 3x3 outputs per channel */
        for (size_t i = 0; i < a.len[0]; i++) {
            float want = a.v[0][i] + bias[i / plane];
            worst = fmax(worst, fabs(o.v[0][i] - want) / (1 + fabs(want)));
        }
        CHECK(a.len[0] == 36 && worst <= 1e-6, "set_bias: output off the bias by %g", worst);
        outputs_free(&a);
        outputs_free(&o);
    }
    free(x);
    /* again, now that it has one: replaced in place */
    float bias2[4] = {1, 2, 3, 4};
    st = oct_model_edit_set_bias(e, "conv", bias2, 4, &err);
    oct_model_free(m);
    m = st ? NULL : edited(e, "set_bias again");
    CHECK(!st && m, "set_bias again: %s", err.message);
    if (m) {
        bt = weight(m, "conv_bias_1");
        CHECK(bt && !memcmp(bt->data, bias2, sizeof bias2) && !weight(m, "conv_bias_2"),
              "set_bias again: not replaced in place");
    }
    /* float_data weights become raw_data */
    for (int i = 0; i < 108; i++)
        w[i] *= 2;
    st = oct_model_edit_set_tensor(e, "w", w, 108, &err);
    oct_model_free(m);
    m = st ? NULL : edited(e, "set_tensor on float_data");
    CHECK(!st && m, "set_tensor on float_data: %s", err.message);
    const oct_tensor *wt = m ? weight(m, "w") : NULL;
    CHECK(wt && wt->ndim == 4 && !memcmp(wt->data, w, sizeof w),
          "set_tensor on float_data: wrong values");
done:
    oct_model_free(orig);
    oct_model_free(m);
    oct_model_edit_close(e);
}

/* Gemm with C of shape [1, 3] is refused; a Constant's value is edited. */
static void test_gemm_constant(void) {
    tb *b = tb_new(13);
    int64_t xd[2] = {2, 4}, bd[2] = {4, 3}, cd[2] = {1, 3};
    float bv[12], cv[3] = {1, 2, 3};
    for (int i = 0; i < 12; i++)
        bv[i] = tb_rand();
    tb_input(b, "x", 2, xd);
    tb_constant(b, "const_b", "B", 2, bd, bv);
    tb_tensor(b, "C", 2, cd, cv, 0);
    const char *in[3] = {"x", "B", "C"};
    tb_node(b, "Gemm", "gemm", 3, in, "y");
    tb_output(b, "y");
    size_t len;
    unsigned char *bytes = tb_finish(b, &len);
    oct_model_edit *e = NULL;
    oct_error err = {0};
    oct_status st = oct_model_edit_open_memory(bytes, len, &e, &err);
    free(bytes);
    CHECK(!st, "gemm: %s", err.message);
    if (st) return;
    st = oct_model_edit_set_bias(e, "gemm", cv, 3, &err);
    CHECK(st == OCT_E_UNSUPPORTED && strstr(err.message, "'gemm'") && strstr(err.message, "[1, 3]"),
          "gemm with a 2-D C: %d %s", st, err.message);
    st = oct_model_edit_set_bias(e, "gemm", cv, 4, &err);
    CHECK(st == OCT_E_SHAPE, "gemm with 4 bias values: %d %s", st, err.message);
    for (int i = 0; i < 12; i++)
        bv[i] = -bv[i];
    st = oct_model_edit_set_tensor(e, "B", bv, 12, &err);
    CHECK(!st, "set_tensor on a Constant: %s", err.message);
    oct_model *m = st ? NULL : edited(e, "set_tensor on a Constant");
    if (m) {
        int v = oct_graph_find(m->g, "B");
        int p = v >= 0 ? m->g->values[v].producer : -1;
        const oct_tensor *t = p >= 0 ? oct_attr_tensor(&m->g->nodes[p], "value") : NULL;
        CHECK(t && !memcmp(t->data, bv, sizeof bv), "set_tensor on a Constant: wrong values");
    }
    oct_model_free(m);
    oct_model_edit_close(e);
}

/* Clip(-0.5, 0.5) writing the graph output -> per-channel bounds. */
static void test_clip(void) {
    tb *b = tb_new(12);
    int64_t xd[4] = {1, 3, 4, 4};
    float l = -0.5f, h = 0.5f;
    tb_input(b, "x", 4, xd);
    tb_tensor(b, "clip_lo", 0, NULL, &l, 0);
    tb_tensor(b, "clip_hi", 0, NULL, &h, 0);
    const char *in[3] = {"x", "clip_lo", "clip_hi"};
    tb_node(b, "Clip", "clip", 3, in, "y");
    tb_output(b, "y");
    size_t len;
    unsigned char *bytes = tb_finish(b, &len);
    char path[600];
    snprintf(path, sizeof path, "%s/clip.onnx", tmpdir);
    oct_model_edit *e = NULL;
    oct_error err = {0};
    oct_status st = oct_model_edit_open_memory(bytes, len, &e, &err);
    free(bytes);
    float lo[3] = {-1, -0.2f, -INFINITY}, hi[3] = {1, 0.3f, 0.1f};
    if (!st) st = oct_model_edit_clip_per_channel(e, "nothing", lo, hi, 3, &err);
    CHECK(st == OCT_E_NOT_FOUND && strstr(err.message, "'nothing'"), "clip on nothing: %s",
          err.message);
    st = oct_model_edit_clip_per_channel(e, "clip", lo, hi, 3, &err);
    if (!st) st = oct_model_edit_write(e, path, &err);
    CHECK(!st, "clip_per_channel: %s", err.message);
    oct_model_edit_close(e);
    oct_model *m = NULL;
    if (!st) st = oct_model_load_file(path, &m, &err);
    CHECK(!st, "clip_per_channel: loading: %s", err.message);
    remove(path);
    if (st) return;
    const oct_graph *g = m->g;
    CHECK(g->n_nodes == 2 && !strcmp(g->nodes[0].name, "clip_max") &&
              !strcmp(g->nodes[1].name, "clip_min") &&
              !strcmp(g->values[g->nodes[0].out[0]].name, "clip_max_out") &&
              !strcmp(g->values[g->nodes[1].out[0]].name, "y"),
          "clip_per_channel: not Max -> Min writing y");
    CHECK(!weight(m, "clip_lo") && !weight(m, "clip_hi") && weight(m, "clip_lo_1"),
          "clip_per_channel: the old bounds stayed or the new ones are misnamed");
    float *x = random_input(48, -2, 2);
    outputs o;
    st = run_model(m, 4, xd, x, &o, &err);
    CHECK(!st, "clip_per_channel: running: %s", err.message);
    if (!st) {
        int bad = 0;
        for (int i = 0; i < 48; i++)
            bad += o.v[0][i] != fminf(fmaxf(x[i], lo[i / 16]), hi[i / 16]);
        CHECK(bad == 0, "clip_per_channel: %d values off", bad);
        outputs_free(&o);
    }
    free(x);
    oct_model_free(m);
}

void test_model_edit(void) {
    test_set_bias();
    test_gemm_constant();
    test_clip();
}
