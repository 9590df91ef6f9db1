/* Shared by the INT8 kernel tests on generated models (test_int8_conv.c,
 * test_int8_deconv.c, test_int8_matmul.c, test_int8_q8.c): the counters
 * (check.h), random data, a minimal protobuf writer for ONNX models, and the
 * run of one model as an INT8 session against the simulation on the
 * reference kernels. Everything is static (one copy per test program). */
#ifndef OCT_TESTS_INT8_TEST_H
#define OCT_TESTS_INT8_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "octet/octet.h"
#include "octet/quant.h"
#include "quant/plan.h"

static uint32_t rng_state = 2463534242u;
static inline uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}
/* Uniform in [-1, 1). */
static inline float urand(void) { return (float)((rnd() >> 8) * (1.0 / 8388608.0) - 1.0); }

static inline float amax_of(const float *x, size_t n) {
    float a = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > a) a = fabsf(x[i]);
    return a;
}

/* ---- a minimal protobuf writer for ONNX models ---------------------------- */

typedef struct {
    unsigned char *p;
    size_t n, cap;
    int oom;
} buf;

static inline void put(buf *b, const void *d, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t nc = (b->n + n) * 2 + 64;
        unsigned char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static inline void varint(buf *b, uint64_t v) {
    unsigned char c[10];
    int k = 0;
    do {
        c[k] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) c[k] |= 0x80;
        k++;
    } while (v);
    put(b, c, (size_t)k);
}
static inline void key(buf *b, int field, int wire) {
    varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}
static inline void f_varint(buf *b, int field, int64_t v) {
    key(b, field, 0);
    varint(b, (uint64_t)v);
}
static inline void f_bytes(buf *b, int field, const void *d, size_t n) {
    key(b, field, 2);
    varint(b, n);
    put(b, d, n);
}
static inline void f_str(buf *b, int field, const char *s) { f_bytes(b, field, s, strlen(s)); }
static inline void f_msg(buf *b, int field, buf *m) {
    f_bytes(b, field, m->p, m->n);
    b->oom |= m->oom;
    free(m->p);
    memset(m, 0, sizeof *m);
}

/* AttributeProto: INTS (type 7) or INT (type 2). */
static inline void attr_ints(buf *node, const char *name, int n, const int64_t *v) {
    buf a = {0};
    f_str(&a, 1, name);
    for (int i = 0; i < n; i++)
        f_varint(&a, 8, v[i]);
    f_varint(&a, 20, 7);
    f_msg(node, 5, &a);
}
static inline void attr_int(buf *node, const char *name, int64_t v) {
    buf a = {0};
    f_str(&a, 1, name);
    f_varint(&a, 3, v);
    f_varint(&a, 20, 2);
    f_msg(node, 5, &a);
}

static inline void tensor_init(buf *graph, const char *name, int nd, const int64_t *dims,
                               const float *data, size_t n) {
    buf t = {0};
    for (int i = 0; i < nd; i++)
        f_varint(&t, 1, dims[i]);
    f_varint(&t, 2, 1); /* FLOAT */
    f_str(&t, 8, name);
    f_bytes(&t, 9, data, n * sizeof(float));
    f_msg(graph, 5, &t);
}

static inline void value_info(buf *graph, int field, const char *name, int nd,
                              const int64_t *dims) {
    buf shape = {0}, tt = {0}, tp = {0}, vi = {0};
    for (int i = 0; i < nd; i++) {
        buf d = {0};
        f_varint(&d, 1, dims[i]);
        f_msg(&shape, 1, &d);
    }
    f_varint(&tt, 1, 1);
    f_msg(&tt, 2, &shape);
    f_msg(&tp, 1, &tt);
    f_str(&vi, 1, name);
    f_msg(&vi, 2, &tp);
    f_msg(graph, field, &vi);
}

/* NodeProto: inputs, outputs, name, op_type, then the attributes in attrs
 * (consumed; NULL for none). */
static inline void node_n(buf *graph, const char *name, const char *op, int n_in,
                          const char *const *in, int n_out, const char *const *out, buf *attrs) {
    buf nd = {0};
    for (int i = 0; i < n_in; i++)
        f_str(&nd, 1, in[i]);
    for (int i = 0; i < n_out; i++)
        f_str(&nd, 2, out[i]);
    f_str(&nd, 3, name);
    f_str(&nd, 4, op);
    if (attrs && attrs->n) put(&nd, attrs->p, attrs->n);
    if (attrs) {
        free(attrs->p);
        memset(attrs, 0, sizeof *attrs);
    }
    f_msg(graph, 1, &nd);
}
/* A node with one output. */
static inline void node(buf *graph, const char *name, const char *op, int n_in,
                        const char *const *in, const char *out, buf *attrs) {
    node_n(graph, name, op, n_in, in, 1, &out, attrs);
}

/* Wraps graph g (consumed) into an opset-13 ModelProto; returns malloc'ed
 * bytes, NULL when out of memory (oom: any builder that failed). */
static inline unsigned char *model_finish(buf *g, int oom, size_t *size) {
    buf m = {0}, op = {0};
    f_varint(&m, 1, 8); /* ir_version */
    f_str(&op, 1, "");
    f_varint(&op, 2, 13);
    f_msg(&m, 8, &op);
    f_msg(&m, 7, g);
    if (m.oom || oom) {
        free(m.p);
        return NULL;
    }
    *size = m.n;
    return m.p;
}

/* ---- one model, INT8 against the simulation ------------------------------- */

/* The bound. Both sides compute the same real number: the conv of the same
 * int8 codes plus the same bias; the INT8 kernel accumulates exactly in
 * int32 and scales once, the simulation sums float products. Where the
 * output is a float tensor they differ by float rounding only, checked at
 * 1e-4 of the output's range; where the plan makes the output int8
 * (out_int8) a value whose pre-rounding results sit on either side of a
 * rounding boundary moves by one output step, so the bound is one step, and
 * at most max_moved of the outputs may move. A case also fails when the
 * number of INT8 kernels is not want_kernels, so a fallback cannot pass. */
typedef struct {
    const char *what;
    const unsigned char *model;
    size_t size;
    oct_plan *plan;            /* the input tensors and the node; "y" is added for out_int8 */
    int n_in;                  /* graph inputs: "x", and "r" when 2 */
    const oct_tensor_view *in; /* n_in views */
    int64_t out_dims[4];       /* "y", the graph's only output */
    int out_int8, want_kernels;
    double max_moved; /* out_int8: fraction of outputs allowed one step */
} int8_vs_sim_case;

static inline int set_inputs(oct_session *s, const int8_vs_sim_case *c, oct_error *err) {
    static const char *names[2] = {"x", "r"};
    for (int i = 0; i < c->n_in; i++)
        if (oct_session_set_input(s, names[i], &c->in[i], err)) return 1;
    return 0;
}

static inline void int8_vs_sim(const int8_vs_sim_case *c) {
    const int64_t *od = c->out_dims;
    size_t ny = (size_t)(od[0] * od[1] * od[2] * od[3]);
    float *ysim = malloc(ny * sizeof(float));
    oct_model *m = NULL;
    oct_session *ss = NULL, *si = NULL;
    oct_error err = {0};
    float y_scale = 0;
    oct_session_options so;
    oct_session_options_init(&so);
    so.threads = 2;
    so.force_reference = 1;
    if (!ysim || oct_model_load_memory(c->model, c->size, &m, &err)) {
        CHECK(0, "%s: model: %s", c->what, err.message);
        goto done;
    }
    if (c->out_int8) {
        /* The output's range from an FP32 run of the model. */
        oct_session *sf = NULL;
        oct_tensor_view o;
        if (oct_session_create(m, &so, &sf, &err) || set_inputs(sf, c, &err) ||
            oct_session_run(sf, &err) || oct_session_get_output(sf, 0, &o, &err)) {
            CHECK(0, "%s: fp32 run: %s", c->what, err.message);
            oct_session_free(sf);
            goto done;
        }
        float a = 0.9f * amax_of(o.data, ny);
        oct_session_free(sf);
        int ty = oct_plan_add_tensor(c->plan, "y");
        c->plan->tensors[ty].precision = OCT_PREC_INT8;
        c->plan->tensors[ty].amax = a;
        y_scale = c->plan->tensors[ty].scale = (float)(a / 127.0);
    }
    if (oct_session_create_simulated(m, &so, c->plan, &ss, &err)) {
        CHECK(0, "%s: simulated session: %s", c->what, err.message);
        goto done;
    }
    so.force_reference = 0;
    if (oct_session_create_int8(m, &so, c->plan, &si, &err)) {
        CHECK(0, "%s: int8 session: %s", c->what, err.message);
        goto done;
    }
    oct_tensor_view ys, yi;
    oct_session *sess[2] = {ss, si};
    for (int k = 0; k < 2; k++) {
        if (set_inputs(sess[k], c, &err) || oct_session_run(sess[k], &err) ||
            oct_session_get_output(sess[k], 0, k ? &yi : &ys, &err)) {
            CHECK(0, "%s: run: %s", c->what, err.message);
            goto done;
        }
        if (!k) memcpy(ysim, ys.data, ny * sizeof(float));
    }
    int kernels = oct_session_int8_kernels(si);
    CHECK(kernels == c->want_kernels, "%s: expected %d INT8 kernel(s), %d ran", c->what,
          c->want_kernels, kernels);
    const float *yv = yi.data;
    float amax = amax_of(ysim, ny);
    double step = c->out_int8 ? y_scale : (amax > 0 ? amax / 127.0 : 1.0);
    double max_err = 0;
    size_t moved = 0, nonzero = 0;
    for (size_t i = 0; i < ny; i++) {
        double e = fabs((double)yv[i] - ysim[i]);
        if (e > max_err || e != e) max_err = e != e ? INFINITY : e;
        if (e > 1e-4 * step) moved++;
        if (ysim[i] != 0) nonzero++;
    }
    double frac = (double)moved / (double)ny;
    printf("  %-44s out %lldx%lldx%lldx%lld  max err %.3g (%.2e steps)%s, %zu/%zu values moved\n",
           c->what, (long long)od[0], (long long)od[1], (long long)od[2], (long long)od[3], max_err,
           max_err / step, c->out_int8 ? " int8 out" : "", moved, ny);
    CHECK(nonzero > 0, "%s: the simulation's output is all zeros: the case tests nothing", c->what);
    if (c->out_int8) {
        CHECK(max_err <= step * (1 + 1e-4), "%s: max error %.4g exceeds one output step %.4g",
              c->what, max_err, step);
        CHECK(frac <= c->max_moved,
              "%s: %.3f%% of the outputs moved by a step (expected rare rounding ties)", c->what,
              100 * frac);
    } else {
        CHECK(max_err <= 1e-4 * step * 127,
              "%s: max error %.4g exceeds float rounding (1e-4 of the range %.4g)", c->what,
              max_err, amax);
    }
done:
    oct_session_free(ss);
    oct_session_free(si);
    oct_model_free(m);
    free(ysim);
}

#endif
