/* Cross-layer equalization (cle.h): the scales, the sweeps over chained
 * pairs, and the edited model. The pair search is in cle_pairs.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "onnx/model_edit.h"
#include "quant/cle_internal.h"
#include "runtime/runtime.h"

/* Chains (1x1 -> depthwise -> 1x1) need a few sweeps: equalizing one pair
 * moves the ranges of its neighbours. */
#define CLE_TOLERANCE 1e-4
#define CLE_MAX_SWEEPS 100

const char *oct_cle_skip_reason_name(oct_cle_skip_reason r) {
    switch (r) {
    case OCT_CLE_SKIP_ACTIVATION: return "activation not positively homogeneous";
    case OCT_CLE_SKIP_FANOUT: return "tensor between has other readers";
    case OCT_CLE_SKIP_WEIGHTS: return "weights not constant or shared";
    case OCT_CLE_SKIP_SHAPE: return "unsupported shape";
    case OCT_CLE_SKIP_CLIP: return "Clip bounds not constant";
    default: return "?";
    }
}

void oct_cle_report_free(oct_cle_report *r) {
    if (!r) return;
    for (int i = 0; i < r->n_pairs; i++) {
        free(r->pairs[i].conv1);
        free(r->pairs[i].conv2);
        free(r->pairs[i].act);
    }
    for (int i = 0; i < r->n_skipped; i++) {
        free(r->skipped[i].conv1);
        free(r->skipped[i].conv2);
        free(r->skipped[i].detail);
    }
    free(r->pairs);
    free(r->skipped);
    memset(r, 0, sizeof *r);
}

/* Largest |W| of output channel i, under the current scales. */
static double range_out(const oct_cle_conv *c, int i) {
    const float *a = c->amax + (size_t)i * (size_t)c->cpg;
    const double *s = c->sin + (size_t)(i / c->opg) * (size_t)c->cpg;
    double m = 0;
    for (int j = 0; j < c->cpg; j++)
        if (a[j] * s[j] > m) m = a[j] * s[j];
    return m / c->sout[i];
}

/* Largest |W| reading input channel ch: column ch % cpg of its group's rows. */
static double range_in(const oct_cle_conv *c, int ch) {
    int gi = ch / c->cpg, j = ch % c->cpg;
    double m = 0;
    for (int o = gi * c->opg; o < (gi + 1) * c->opg; o++) {
        double v = c->amax[(size_t)o * (size_t)c->cpg + (size_t)j] / c->sout[o];
        if (v > m) m = v;
    }
    return m * c->sin[ch];
}

static double scale_of(double r1, double r2) {
    if (!(r1 > 0) || !(r2 > 0) || !isfinite(r1) || !isfinite(r2)) return 1;
    double s = sqrt(r1 / r2);
    return isfinite(s) && s > 0 ? s : 1;
}

static double mean_ratio(const oct_cle_ctx *x, const oct_cle_cand *c) {
    const oct_cle_conv *a = &x->convs[c->c1], *b = &x->convs[c->c2];
    double sum = 0;
    for (int i = 0; i < a->cout; i++) {
        double r1 = range_out(a, i), r2 = range_in(b, i);
        sum += fmax(r1, r2) > 0 ? fmin(r1, r2) / fmax(r1, r2) : 1;
    }
    return sum / a->cout;
}

/* One pass over the pairs in order; returns the largest |log s|. Within a
 * pair the channels are independent (s_i touches row i of Conv1 and column
 * i of Conv2 only), so updating them one by one is the paper's update. */
static double sweep(oct_cle_ctx *x) {
    double worst = 0;
    for (int p = 0; p < x->n_cands; p++) {
        oct_cle_conv *a = &x->convs[x->cands[p].c1], *b = &x->convs[x->cands[p].c2];
        for (int i = 0; i < a->cout; i++) {
            double s = scale_of(range_out(a, i), range_in(b, i));
            a->sout[i] *= s;
            b->sin[i] *= s;
            worst = fmax(worst, fabs(log(s)));
        }
    }
    return worst;
}

static oct_status equalize(oct_cle_ctx *x) {
    oct_cle_report *rep = x->rep;
    rep->pairs = calloc((size_t)x->n_cands + 1, sizeof *rep->pairs);
    if (!rep->pairs) return oct_fail(x->err, OCT_E_NOMEM, "out of memory");
    for (int p = 0; p < x->n_cands; p++)
        rep->pairs[p].ratio_before = mean_ratio(x, &x->cands[p]);
    while (x->n_cands && rep->sweeps < CLE_MAX_SWEEPS) {
        rep->sweeps++;
        rep->last_max_log_scale = sweep(x);
        if (rep->last_max_log_scale < CLE_TOLERANCE) break;
    }
    const oct_graph *g = x->g;
    for (int p = 0; p < x->n_cands; p++) {
        const oct_cle_cand *c = &x->cands[p];
        oct_cle_pair *r = &rep->pairs[rep->n_pairs++];
        r->conv1 = strdup(g->nodes[x->convs[c->c1].node].name);
        r->conv2 = strdup(g->nodes[x->convs[c->c2].node].name);
        r->act = strdup(c->act >= 0 ? g->nodes[c->act].op_type : "");
        r->channels = x->convs[c->c1].cout;
        r->ratio_after = mean_ratio(x, c);
        if (!r->conv1 || !r->conv2 || !r->act)
            return oct_fail(x->err, OCT_E_NOMEM, "out of memory");
    }
    return OCT_OK;
}

static int all_ones(const double *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (v[i] != 1) return 0;
    return 1;
}

/* The conv's weights (and bias) with its scales, rounded to float once. */
static oct_status write_conv(oct_model_edit *e, const oct_cle_conv *c, oct_error *err) {
    size_t cin = (size_t)c->cpg * (size_t)c->group, cout = (size_t)c->cout;
    int out_same = all_ones(c->sout, cout);
    if (out_same && all_ones(c->sin, cin)) return OCT_OK;
    size_t n = (size_t)oct_numel(c->w), k = n / (cout * (size_t)c->cpg);
    float *w = malloc(n * sizeof *w);
    if (!w) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    const float *w0 = c->w->data;
    for (size_t o = 0; o < cout; o++)
        for (size_t j = 0; j < (size_t)c->cpg; j++) {
            double f = c->sin[(o / (size_t)c->opg) * (size_t)c->cpg + j] / c->sout[o];
            size_t at = (o * (size_t)c->cpg + j) * k;
            for (size_t t = 0; t < k; t++)
                w[at + t] = (float)(w0[at + t] * f);
        }
    oct_status st = oct_model_edit_set_tensor(e, c->wname, w, n, err);
    if (!st && c->b && !out_same) {
        const float *b0 = c->b->data;
        for (size_t o = 0; o < cout; o++)
            w[o] = (float)(b0[o] / c->sout[o]);
        st = oct_model_edit_set_tensor(e, c->bname, w, cout, err);
    }
    free(w);
    return st;
}

/* The Clip between a pair gets the bounds of the scaled channels. */
static oct_status write_clip(oct_model_edit *e, const oct_cle_ctx *x, const oct_cle_cand *c,
                             int *done) {
    const oct_cle_conv *a = &x->convs[c->c1];
    if (!c->is_clip || all_ones(a->sout, (size_t)a->cout)) return OCT_OK;
    float *lo = malloc(2 * (size_t)a->cout * sizeof *lo);
    if (!lo) return oct_fail(x->err, OCT_E_NOMEM, "out of memory");
    float *hi = lo + a->cout;
    for (int i = 0; i < a->cout; i++) {
        lo[i] = (float)(c->lo / a->sout[i]);
        hi[i] = (float)(c->hi / a->sout[i]);
    }
    oct_status st =
        oct_model_edit_clip_per_channel(e, x->g->nodes[c->act].name, lo, hi, a->cout, x->err);
    free(lo);
    *done += !st;
    return st;
}

typedef struct cle_io {
    const char *in_path;
    const void *in;
    size_t in_size;
    const char *out_path;
    void **bytes;
    size_t *len;
} cle_io;

static oct_status apply(const cle_io *io, oct_cle_report *rep, oct_error *err) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    oct_cle_report local;
    if (!rep) rep = &local;
    memset(rep, 0, sizeof *rep);
    oct_model *m = NULL;
    oct_model_edit *e = NULL;
    oct_cle_ctx x;
    memset(&x, 0, sizeof x);
    x.rep = rep;
    x.err = err;
    oct_status st = io->in_path ? oct_model_load_file(io->in_path, &m, err)
                                : oct_model_load_memory(io->in, io->in_size, &m, err);
    if (!st) {
        x.g = m->g;
        st = oct_cle_find_pairs(&x);
    }
    if (!st) st = equalize(&x);
    if (!st)
        st = io->in_path ? oct_model_edit_open(io->in_path, &e, err)
                         : oct_model_edit_open_memory(io->in, io->in_size, &e, err);
    for (int i = 0; i < x.n_convs && !st; i++)
        st = write_conv(e, &x.convs[i], err);
    for (int p = 0; p < x.n_cands && !st; p++)
        st = write_clip(e, &x, &x.cands[p], &rep->clips_rewritten);
    if (!st)
        st = io->out_path ? oct_model_edit_write(e, io->out_path, err)
                          : oct_model_edit_write_memory(e, io->bytes, io->len, err);
    oct_model_edit_close(e);
    oct_cle_ctx_free(&x);
    oct_model_free(m);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rep->ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;
    if (st) oct_error_prefix(err, "cross-layer equalization: ");
    if (rep == &local) oct_cle_report_free(&local);
    return st;
}

oct_status oct_cle_apply(const char *model_path, const char *out_path, oct_cle_report *rep,
                         oct_error *err) {
    if (rep) memset(rep, 0, sizeof *rep);
    if (!model_path || !out_path)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_cle_apply: NULL path");
    cle_io io = {model_path, NULL, 0, out_path, NULL, NULL};
    return apply(&io, rep, err);
}

oct_status oct_cle_apply_memory(const void *model, size_t size, void **bytes, size_t *len,
                                oct_cle_report *rep, oct_error *err) {
    if (rep) memset(rep, 0, sizeof *rep);
    if (!bytes || !len)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_cle_apply_memory: NULL output");
    *bytes = NULL;
    *len = 0;
    if (!model || !size)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_cle_apply_memory: empty model");
    cle_io io = {NULL, model, size, NULL, bytes, len};
    return apply(&io, rep, err);
}
