/* AdaRound and bias correction, layer by layer (octet/ptq.h).
 *
 * One FP32 pass records AdaRound's targets: W x at sampled output positions
 * of every layer. Then, level by level (layers of one level never feed each
 * other), the model as optimised so far runs simulated under the plan on
 * the same samples, stopping once the level's inputs are seen: those
 * quantized inputs give AdaRound its columns and bias correction its
 * column means. The level's new weights and biases are written into the
 * model (onnx/model_edit.h) before the next level runs on it. */
#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arith.h"
#include "core/rng.h"
#include "onnx/model_edit.h"
#include "quant/adaround.h"
#include "quant/ptq_driver.h"
#include "quant/sim.h"
#include "runtime/runtime.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void oct_ptq_options_init(oct_ptq_options *o) {
    memset(o, 0, sizeof *o);
    o->images = 32;
    o->columns = 4096;
    /* AdaRound's defaults have one home: its own parameters */
    oct_adaround_params ap;
    oct_adaround_params_init(&ap);
    o->iters = ap.iters;
    o->batch = ap.batch;
    o->reg_weight = ap.reg_weight;
    o->beta_start = ap.beta_start;
    o->beta_end = ap.beta_end;
    o->warmup = ap.warmup;
    o->lr = ap.lr;
    o->seed = 0x5eed;
}

void oct_ptq_report_free(oct_ptq_report *r) {
    if (!r) return;
    for (int i = 0; i < r->n_layers; i++) {
        free(r->layers[i].node);
        free(r->layers[i].op_type);
        free(r->layers[i].skipped);
    }
    free(r->layers);
    free(r);
}

/* The output positions of layer l sampled on image i: the same in the FP32
 * and the quantized passes, so targets and columns pair up. */
static void positions(const ptq_ctx *c, int l, int i, int64_t *pos) {
    const ptq_layer *L = &c->layers[l];
    if (L->q.positions == L->per_img) {
        for (int j = 0; j < L->per_img; j++)
            pos[j] = j;
        return;
    }
    uint64_t s = c->opt.seed ^ ((uint64_t)(l + 1) * 0x100000001B3ull) ^ ((uint64_t)(i + 1) << 40);
    for (int j = 0; j < L->per_img; j++)
        pos[j] = (int64_t)(oct_splitmix64(&s) % (uint64_t)L->q.positions);
}

typedef struct capture {
    ptq_ctx *c;
    oct_session *s;
    int level;   /* the level captured; -1: every layer (targets) */
    int targets; /* 1: FP32 pass, fills y; 0: quantized pass, fills x and sums */
    int image;
    int *vidx; /* per layer: its input's value index in s->g */
    unsigned char *done;
    int pending;
    int stopped;
    oct_node_observer inner;
    void *inner_user;
    float *tmp;
    int64_t *pos;
    oct_status st;
    oct_error *err;
} capture;

static int wanted(const capture *cp, int l) {
    const ptq_layer *L = &cp->c->layers[l];
    return L->active && (cp->level < 0 || L->log.level == cp->level);
}

static oct_status take(capture *cp, int l, const oct_value *v, int nhwc) {
    ptq_ctx *c = cp->c;
    ptq_layer *L = &c->layers[l];
    const float *x = v->t.data;
    if (L->q.kind == PTQ_ROWS && nhwc) {
        free(L->log.skipped);
        L->log.skipped = strdup("its input is stored channels-last");
        L->active = 0;
        return OCT_OK;
    }
    int P = L->per_img, G = L->q.G, R = L->q.R, K = L->q.K;
    positions(c, l, cp->image, cp->pos);
    if (cp->targets) {
        ptq_gather(&L->q, x, nhwc, cp->pos, P, cp->tmp, P, 0);
        for (int g = 0; g < G; g++)
            if (dnnl_sgemm('N', 'N', R, P, K, 1.0f, L->w + (size_t)g * R * K, K,
                           cp->tmp + (size_t)g * K * P, P, 0.0f,
                           L->y + (size_t)g * R * L->M + (size_t)cp->image * P,
                           L->M) != dnnl_success)
                return oct_fail(cp->err, OCT_E_RUNTIME, "node '%s': sgemm failed", L->log.node);
        return OCT_OK;
    }
    if (L->x) ptq_gather(&L->q, x, nhwc, cp->pos, P, L->x, L->M, (int64_t)cp->image * P);
    if (L->sums) {
        ptq_column_sums(&L->q, x, nhwc, L->sums);
        L->n_sums += L->q.positions;
    }
    return OCT_OK;
}

static oct_status observe(void *user, oct_graph *g, int node, int nv, const int *vals) {
    capture *cp = user;
    if (cp->inner) OCT_TRY(cp->inner(cp->inner_user, g, node, nv, vals));
    const oct_layout *lay = cp->s->exec.x.layout;
    for (int i = 0; i < nv; i++)
        for (int l = 0; l < cp->c->n_layers; l++) {
            if (cp->done[l] || cp->vidx[l] != vals[i] || !wanted(cp, l)) continue;
            cp->st = take(cp, l, &g->values[vals[i]], lay && lay[vals[i]] == OCT_LAYOUT_NHWC);
            if (cp->st) return cp->st;
            cp->done[l] = 1;
            cp->pending--;
        }
    if (cp->pending == 0) {
        cp->stopped = 1;
        return OCT_E_RUNTIME; /* nothing downstream is needed: stop the run here */
    }
    return OCT_OK;
}

/* Runs s on every sample, capturing the wanted layers' inputs. */
static oct_status pass(ptq_ctx *c, oct_session *s, int level, int targets, oct_error *err) {
    capture cp = {c,    s,    level,  targets, 0, NULL, NULL, 0, 0, s->observer, s->observer_user,
                  NULL, NULL, OCT_OK, err};
    size_t tmp_n = 1, pos_n = 1;
    for (int l = 0; l < c->n_layers; l++) {
        const ptq_layer *L = &c->layers[l];
        size_t t = (size_t)L->q.G * L->q.K * L->per_img;
        if (t > tmp_n) tmp_n = t;
        if ((size_t)L->per_img > pos_n) pos_n = (size_t)L->per_img;
    }
    cp.vidx = malloc(sizeof(int) * (size_t)(c->n_layers + 1));
    cp.done = malloc((size_t)c->n_layers + 1);
    cp.tmp = targets ? malloc(sizeof(float) * tmp_n) : NULL;
    cp.pos = malloc(sizeof(int64_t) * pos_n);
    oct_status st = OCT_OK;
    if (!cp.vidx || !cp.done || !cp.pos || (targets && !cp.tmp))
        st = oct_fail(err, OCT_E_NOMEM, "out of memory");
    for (int l = 0; l < c->n_layers && !st; l++)
        cp.vidx[l] = c->layers[l].active ? oct_graph_find(s->g, c->layers[l].x_name) : -1;
    for (int i = 0; i < c->n_images && !st; i++) {
        cp.image = i;
        cp.pending = 0;
        int from_inputs = 0;
        for (int l = 0; l < c->n_layers; l++) {
            cp.done[l] = 0;
            if (!wanted(&cp, l)) continue;
            if (cp.vidx[l] < 0) {
                st = oct_fail(err, OCT_E_NOT_FOUND, "node '%s': input '%s' is not in the session",
                              c->layers[l].log.node, c->layers[l].x_name);
                break;
            }
            if (s->g->values[cp.vidx[l]].is_input)
                from_inputs = 1;
            else
                cp.pending++;
        }
        if (st) break;
        st = oct_sample_cache_set(c->samples, i, s, err);
        if (st) break;
        s->observer = observe;
        s->observer_user = &cp;
        cp.stopped = 0;
        if (cp.pending == 0) {
            /* only graph inputs wanted: quantize them as a run would */
            if (s->sim) st = oct_sim_inputs(s);
        } else {
            st = oct_session_run(s, err);
            if (cp.stopped && !cp.st) st = OCT_OK;
        }
        s->observer = cp.inner;
        s->observer_user = cp.inner_user;
        if (st) break;
        for (int l = 0; l < c->n_layers && from_inputs && !st; l++)
            if (wanted(&cp, l) && !cp.done[l] && s->g->values[cp.vidx[l]].is_input)
                st = take(&cp, l, &s->g->values[cp.vidx[l]], 0);
    }
    free(cp.vidx);
    free(cp.done);
    free(cp.tmp);
    free(cp.pos);
    return st;
}

/* The quantized rows: AdaRound's codes, or round to nearest; then the bias
 * correction of the mean output shift E[(W - Q(W)) x] (issue's definition:
 * the same quantized-network input x on both sides). */
static oct_status optimise_layer(ptq_ctx *c, ptq_layer *L, oct_model_edit *ed, oct_error *err) {
    double t0 = now_ms();
    int rows = L->q.G * L->q.R, K = L->q.K;
    size_t n = (size_t)rows * K;
    float *wq = malloc(sizeof(float) * n), *stored = malloc(sizeof(float) * n);
    int8_t *codes = malloc(n);
    oct_status st = OCT_OK;
    if (!wq || !stored || !codes) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n && !st; i++) {
        float q = oct_round_half_even(L->w[i] / L->scale[i / (size_t)K]);
        codes[i] = (int8_t)(q > c->qmax ? c->qmax : q < -c->qmax ? -c->qmax : q);
    }
    if (!st && L->x) {
        oct_adaround_params ap;
        oct_adaround_params_init(&ap);
        ap.iters = c->opt.iters;
        ap.batch = c->opt.batch;
        ap.reg_weight = c->opt.reg_weight;
        ap.beta_start = c->opt.beta_start;
        ap.beta_end = c->opt.beta_end;
        ap.warmup = c->opt.warmup;
        ap.lr = c->opt.lr;
        ap.seed = c->opt.seed ^ (uint64_t)(L - c->layers);
        int8_t *ada = malloc(n);
        double ta = now_ms();
        st = ada ? oct_adaround_layer(L->w, L->q.G, L->q.R, K, L->scale, c->qmax, L->x, L->y, L->M,
                                      &ap, ada, &L->log.mse_rtn, &L->log.mse_ada, err)
                 : oct_fail(err, OCT_E_NOMEM, "out of memory");
        L->ada_ms = now_ms() - ta;
        if (st) oct_error_prefix(err, "node '%s': AdaRound: ", L->log.node);
        /* Its codes are kept only where they reconstruct the layer better
         * than rounding to nearest on the same columns. */
        if (!st && L->log.mse_ada < L->log.mse_rtn) {
            memcpy(codes, ada, n);
            L->log.adarounded = 1;
        } else if (!st) {
            free(L->log.skipped);
            L->log.skipped =
                strdup("AdaRound did not beat round-to-nearest here: kept round-to-nearest");
        }
        free(ada);
    }
    for (size_t i = 0; i < n && !st; i++)
        wq[i] = codes[i] * L->scale[i / (size_t)K];
    if (!st && L->log.adarounded) {
        ptq_rows_to_weight(L->wlay, &L->q, wq, stored);
        st = oct_model_edit_set_tensor(ed, L->w_name, stored, L->w_numel, err);
    }
    if (!st && L->sums && L->n_sums > 0) {
        float *b = stored; /* reused: rows <= rows * K */
        double tot = 0;
        for (int r = 0; r < rows; r++) {
            const float *wr = L->w + (size_t)r * K, *qr = wq + (size_t)r * K;
            const double *e = L->sums + (size_t)(r / L->q.R) * K;
            double d = 0;
            for (int k = 0; k < K; k++)
                d += ((double)wr[k] - qr[k]) * e[k];
            d /= (double)L->n_sums;
            b[r] = (float)((L->bias ? L->bias[r] : 0.0) + d);
            tot += fabs(d);
        }
        L->log.bias_shift = tot / rows;
        if (L->bias_tensor)
            st = oct_model_edit_set_tensor(ed, L->bias_tensor, b, (size_t)rows, err);
        else
            st = oct_model_edit_set_bias(ed, L->bias_node, b, (size_t)rows, err);
        L->log.bias_corrected = !st;
    }
    free(wq);
    free(stored);
    free(codes);
    L->log.ms = now_ms() - t0;
    return st;
}

static oct_status prepare_level(ptq_ctx *c, int level, oct_error *err) {
    for (int l = 0; l < c->n_layers; l++) {
        ptq_layer *L = &c->layers[l];
        if (!L->active || L->log.level != level) continue;
        size_t xs = (size_t)L->q.G * L->q.K * (size_t)L->M;
        if (c->opt.methods & OCT_PTQ_ADAROUND) {
            L->x = malloc(sizeof(float) * (xs ? xs : 1));
            if (!L->x)
                return oct_fail(err, OCT_E_NOMEM, "out of memory (node '%s': %zu columns)",
                                L->log.node, xs);
        }
        if (c->opt.methods & OCT_PTQ_BIAS_CORRECTION) {
            if (!L->bias && L->bias_tensor == NULL && !strcmp(L->log.op_type, "MatMul")) {
                free(L->log.skipped);
                L->log.skipped =
                    strdup("bias correction: a MatMul without a constant Add after it");
            } else {
                L->sums = calloc((size_t)L->q.G * L->q.K + 1, sizeof(double));
                if (!L->sums) return oct_fail(err, OCT_E_NOMEM, "out of memory");
            }
        }
    }
    return OCT_OK;
}

static oct_status run_levels(ptq_ctx *c, oct_model_edit *ed, const oct_session_options *so,
                             oct_ptq_report *rep, oct_error *err) {
    int done = 0, total = 0;
    for (int l = 0; l < c->n_layers; l++)
        total += c->layers[l].active;
    for (int level = 0; level < c->n_levels; level++) {
        int any = 0;
        for (int l = 0; l < c->n_layers; l++)
            any |= c->layers[l].active && c->layers[l].log.level == level;
        if (!any) continue;
        OCT_TRY(prepare_level(c, level, err));
        void *bytes = NULL;
        size_t len = 0;
        OCT_TRY(oct_model_edit_write_memory(ed, &bytes, &len, err));
        oct_model *m = NULL;
        oct_session *s = NULL;
        double t0 = now_ms();
        oct_status st = oct_model_load_memory(bytes, len, &m, err);
        free(bytes);
        if (!st) st = oct_session_create_simulated(m, so, c->plan, &s, err);
        if (!st) st = pass(c, s, level, 0, err);
        oct_session_free(s);
        oct_model_free(m);
        rep->collect_ms += now_ms() - t0;
        for (int l = 0; l < c->n_layers && !st; l++) {
            ptq_layer *L = &c->layers[l];
            if (!L->active || L->log.level != level) continue;
            st = optimise_layer(c, L, ed, err);
            rep->adaround_ms += L->ada_ms;
            rep->bias_ms += L->log.ms - L->ada_ms;
            free(L->x);
            free(L->y);
            free(L->sums);
            L->x = NULL;
            L->y = NULL;
            L->sums = NULL;
            if (c->opt.progress) c->opt.progress(c->opt.progress_user, L->log.node, ++done, total);
        }
        if (st) return st;
    }
    return OCT_OK;
}

static oct_status targets(ptq_ctx *c, oct_error *err) {
    for (int l = 0; l < c->n_layers; l++) {
        ptq_layer *L = &c->layers[l];
        if (!L->active) continue;
        L->y = malloc(sizeof(float) * (size_t)L->q.G * L->q.R * (size_t)L->M + 1);
        if (!L->y)
            return oct_fail(err, OCT_E_NOMEM, "out of memory (AdaRound targets of '%s')",
                            L->log.node);
    }
    return pass(c, c->fp, -1, 1, err);
}

static oct_status report_layers(const ptq_ctx *c, oct_ptq_report *rep, oct_error *err) {
    rep->layers = calloc((size_t)c->n_layers + 1, sizeof *rep->layers);
    if (!rep->layers) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    for (int l = 0; l < c->n_layers; l++) {
        rep->layers[l] = c->layers[l].log;
        c->layers[l].log.node = c->layers[l].log.op_type = c->layers[l].log.skipped = NULL;
    }
    rep->n_layers = c->n_layers;
    return OCT_OK;
}

oct_status oct_ptq_optimize(const char *model_path, const oct_session_options *so, oct_plan *plan,
                            const oct_ptq_options *po, int count, oct_sample_fn fn, void *user,
                            const char *out_path, oct_ptq_report **report, oct_error *err) {
    if (report) *report = NULL;
    if (!model_path || !plan || !fn || !out_path)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_ptq_optimize: NULL argument");
    double t0 = now_ms();
    ptq_ctx c;
    memset(&c, 0, sizeof c);
    if (po)
        c.opt = *po;
    else
        oct_ptq_options_init(&c.opt);
    if (c.opt.images <= 0 || c.opt.columns <= 0)
        return oct_fail(err, OCT_E_INVALID_ARG, "PTQ: images and columns must be positive");
    c.plan = plan;
    int bits = oct_plan_weight_bits(plan);
    c.qmax = (1 << (bits - 1)) - 1;
    oct_ptq_report *rep = calloc(1, sizeof *rep);
    oct_model *m0 = NULL;
    oct_model_edit *ed = NULL;
    oct_sample_cache cache = {0};
    if (!rep) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    rep->methods = c.opt.methods;
    rep->weight_bits = bits;
    /* the plan may name another file of the same model (sha256 checked) */
    char sha[65];
    memcpy(sha, plan->model_sha256, sizeof sha);
    oct_status st = oct_model_load_file(model_path, &m0, err);
    if (!st) st = oct_plan_check(plan, m0, err);
    plan->model_sha256[0] = 0; /* the model changes level by level under the same plan */
    c.m0 = m0;
    if (!st)
        st =
            oct_sample_cache_load(&cache, m0->g->n_inputs,
                                  count < c.opt.images ? count : c.opt.images, fn, user, NULL, err);
    c.samples = &cache;
    c.n_images = cache.n;
    if (!st && c.n_images == 0) st = oct_fail(err, OCT_E_INVALID_ARG, "PTQ: no usable samples");
    if (!st) st = oct_session_create(m0, so, &c.fp, err);
    if (!st) st = ptq_layers_setup(&c, err);
    double tc = now_ms();
    if (!st && (c.opt.methods & OCT_PTQ_ADAROUND)) st = targets(&c, err);
    rep->collect_ms += now_ms() - tc;
    oct_session_free(c.fp);
    c.fp = NULL;
    if (!st) st = oct_model_edit_open(model_path, &ed, err);
    if (!st) st = run_levels(&c, ed, so, rep, err);
    if (!st) st = oct_model_edit_write(ed, out_path, err);
    oct_model_edit_close(ed);
    oct_model *out = NULL;
    if (!st) st = oct_model_load_file(out_path, &out, err);
    if (!st) {
        memcpy(plan->model_sha256, oct_model_sha256(out), 65);
        free(plan->model_path);
        plan->model_path = strdup(out_path);
    } else {
        memcpy(plan->model_sha256, sha, sizeof sha);
    }
    oct_model_free(out);
    if (!st) st = report_layers(&c, rep, err);
    ptq_layers_free(&c);
    oct_sample_cache_free(&cache);
    oct_model_free(m0);
    rep->total_ms = now_ms() - t0;
    if (st || !report)
        oct_ptq_report_free(rep);
    else
        *report = rep;
    return st;
}
