/* The calibration driver: runs the model over the samples, streams every
 * floating-point activation into a histogram keyed by its ONNX tensor name,
 * then asks the chosen calibrator for each threshold and writes the plan.
 *
 * Statistics are taken on the session's fast path: a tensor that a fused
 * kernel never materialises (a Conv output inside Conv+SiLU) is not in the
 * plan, exactly as TensorRT does not quantize inside its fused layers.
 * Memory: one histogram per tensor plus one sample's activations. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "octet/quant.h"
#include "quant/calibrator.h"
#include "quant/histogram.h"
#include "quant/plan.h"
#include "runtime/runtime.h"

void oct_calib_options_init(oct_calib_options *o) {
    memset(o, 0, sizeof *o);
    o->method = "entropy";
    o->scheme = "compute";
}

typedef struct {
    oct_histogram **h; /* per value; NULL when not collected */
    int n;
} collector;

static oct_status observe(void *user, oct_graph *g, int node, int nv, const int *vals) {
    (void)node;
    collector *c = user;
    for (int i = 0; i < nv; i++) {
        int v = vals[i];
        if (v < c->n && c->h[v] && g->values[v].t.data)
            oct_hist_observe(c->h[v], g->values[v].t.data, (size_t)oct_numel(&g->values[v].t));
    }
    return OCT_OK;
}

static int is_compute_op(const char *op) {
    return !strcmp(op, "Conv") || !strcmp(op, "ConvTranspose") || !strcmp(op, "MatMul") || !strcmp(op, "Gemm");
}

/* --method auto for one tensor: each calibrator's threshold, the one with
 * the least expected squared quantization error on the histogram wins (ties:
 * the first in the list); the plan records which. mse minimises that error
 * over a grid of bin edges, so it wins most tensors; another calibrator
 * wins where its threshold falls between the grid's points and does
 * better. */
static oct_status calibrate_auto(const oct_histogram *h, oct_plan_tensor *t, oct_error *err) {
    double best_e = INFINITY;
    const char *best = NULL;
    for (const oct_calibrator *const *c = oct_calibrator_list(); *c; c++) {
        oct_calib_params p;
        oct_calib_params_default(&p);
        double amax;
        float scale;
        OCT_TRY(oct_calibrate(*c, h, &p, &amax, &scale, err));
        double e = oct_calib_expected_mse(h, amax);
        if (e < best_e) {
            best_e = e;
            best = (*c)->name;
            t->amax = amax;
            t->scale = scale;
        }
    }
    free(t->method);
    t->method = best ? strdup(best) : NULL;
    return OCT_OK;
}

/* One pass over all samples. */
static oct_status run_pass(oct_session *s, collector *col, int pass, int passes, int count, oct_sample_fn fn,
                           void *user, const oct_calib_options *co, int *skipped, int *used, oct_error *err) {
    oct_graph *g = s->g;
    int nin = g->n_inputs;
    oct_tensor_view in[16];
    if (nin > 16) return oct_fail(err, OCT_E_UNSUPPORTED, "calibration supports up to 16 model inputs");
    *used = 0;
    for (int i = 0; i < count; i++) {
        memset(in, 0, sizeof in);
        oct_error e = {0};
        oct_status st = fn(user, i, in, nin, &e);
        if (st) {
            for (int k = 0; k < nin; k++) oct_free(in[k].data);
            if (e.status == OCT_E_IO || st == OCT_E_IO) {
                if (pass == 1) (*skipped)++;
                continue;
            }
            if (err) *err = e;
            return st;
        }
        for (int k = 0; k < nin && !st; k++) st = oct_session_set_input(s, g->values[g->inputs[k]].name, &in[k], err);
        for (int k = 0; k < nin; k++) oct_free(in[k].data);
        if (st) {
            oct_error_prefix(err, "sample %d: ", i);
            return st;
        }
        /* graph inputs are not written by any step: observe them here */
        for (int k = 0; k < nin; k++) {
            int v = g->inputs[k];
            if (col->h[v]) oct_hist_observe(col->h[v], g->values[v].t.data, (size_t)oct_numel(&g->values[v].t));
        }
        s->observer = observe;
        s->observer_user = col;
        st = oct_session_run(s, err);
        s->observer = NULL;
        if (st) {
            oct_error_prefix(err, "sample %d: ", i);
            return st;
        }
        (*used)++;
        if (co->progress) co->progress(co->progress_user, pass, passes, i + 1, count);
    }
    return OCT_OK;
}

oct_status oct_calibrate_model(const oct_model *m, const oct_session_options *so, const oct_calib_options *co_in,
                               int count, oct_sample_fn fn, void *user, oct_plan **out, int *skipped_out,
                               oct_error *err) {
    if (!m || !fn || !out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_calibrate_model: NULL argument");
    *out = NULL;
    oct_calib_options co;
    if (co_in) co = *co_in;
    else oct_calib_options_init(&co);
    if (!co.method) co.method = "entropy";
    if (!co.scheme) co.scheme = "compute";
    if (!co.weight_bits) co.weight_bits = 8;
    if (!oct_weight_bits_valid(co.weight_bits))
        return oct_fail(err, OCT_E_INVALID_ARG, "weight_bits %d: expected 4, 6, 7 or 8", co.weight_bits);
    int scheme_all = !strcmp(co.scheme, "all");
    if (!scheme_all && strcmp(co.scheme, "compute"))
        return oct_fail(err, OCT_E_INVALID_ARG, "unknown scheme '%s' (all, compute)", co.scheme);
    oct_calib_params cp;
    /* auto: every calibrator per tensor, the least expected error wins; the
     * histograms are filled as for any method that needs them */
    int method_auto = !strcmp(co.method, "auto");
    if (method_auto && co.asymmetric)
        return oct_fail(err, OCT_E_UNSUPPORTED, "--method auto is for symmetric int8 (not --asymmetric)");
    const oct_calibrator *cal = oct_calibrator_find(method_auto ? "entropy" : co.method, &cp, err);
    if (!cal) return err && err->status ? err->status : OCT_E_INVALID_ARG;
    if (count < 1) return oct_fail(err, OCT_E_INVALID_ARG, "no calibration samples");

    oct_session *s = NULL;
    OCT_TRY(oct_session_create(m, so, &s, err));
    oct_graph *g = s->g;
    collector col = {calloc((size_t)g->n_values + 1, sizeof(oct_histogram *)), g->n_values};
    oct_plan *plan = NULL;
    oct_status st = col.h ? OCT_OK : oct_fail(err, OCT_E_NOMEM, "out of memory");
    oct_hist_mode mode = co.streaming ? OCT_HIST_STREAMING : OCT_HIST_TWO_PASS;
    /* Collected: float graph inputs and every float tensor a step writes. */
    for (int i = 0; !st && i < s->exec.n_steps; i++) {
        const oct_kernel *k = s->exec.steps[i];
        for (int o = 0; o < k->n_out && !st; o++) {
            int v = k->out_values[o];
            if (v < 0 || g->values[v].is_shadow || g->values[v].t.dtype != OCT_FLOAT || col.h[v]) continue;
            col.h[v] = calloc(1, sizeof(oct_histogram));
            if (!col.h[v]) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
            else st = oct_hist_init(col.h[v], mode, co.asymmetric ? OCT_HIST_SIGNED : 0, err);
        }
    }
    for (int k = 0; !st && k < g->n_inputs; k++) {
        int v = g->inputs[k];
        if (g->values[v].t.dtype != OCT_FLOAT) continue;
        col.h[v] = calloc(1, sizeof(oct_histogram));
        if (!col.h[v]) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
        else st = oct_hist_init(col.h[v], mode, co.asymmetric ? OCT_HIST_SIGNED : 0, err);
    }
    int skipped = 0, used = 0;
    int two_pass = mode == OCT_HIST_TWO_PASS && cal->needs_histogram;
    int passes = two_pass ? 2 : 1;
    if (!st) st = run_pass(s, &col, 1, passes, count, fn, user, &co, &skipped, &used, err);
    if (!st && !used) st = oct_fail(err, OCT_E_INVALID_ARG, "no usable calibration sample (%d skipped)", skipped);
    if (!st && mode == OCT_HIST_TWO_PASS) {
        for (int v = 0; v < col.n && !st; v++)
            if (col.h[v]) st = oct_hist_end_first_pass(col.h[v], err);
        if (!st && two_pass) st = run_pass(s, &col, 2, passes, count, fn, user, &co, &skipped, &used, err);
    }
    /* The plan: every collected tensor with its statistics and threshold;
     * the scheme decides which are INT8. */
    if (!st) {
        plan = oct_plan_new();
        if (!plan) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    unsigned char *int8 = st ? NULL : calloc((size_t)g->n_values + 1, 1);
    if (!st && !int8) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
    if (!st) {
        for (int i = 0; i < g->n_nodes; i++) {
            const oct_node *n = &g->nodes[i];
            if (n->dead) continue;
            int q = scheme_all || is_compute_op(n->op_type);
            if (!scheme_all && q) {
                int ninputs = !strcmp(n->op_type, "MatMul") ? 2 : 1;
                for (int k = 0; k < ninputs && k < n->n_in; k++)
                    if (n->in[k] >= 0 && !g->values[n->in[k]].is_const) int8[n->in[k]] = 1;
            }
            int idx = oct_plan_add_node(plan, n->name, n->op_type);
            if (idx < 0) {
                st = oct_fail(err, OCT_E_NOMEM, "out of memory");
                break;
            }
            plan->nodes[idx].precision = q ? OCT_PREC_INT8 : OCT_PREC_FP32;
        }
    }
    for (int v = 0; v < col.n && !st; v++) {
        if (!col.h[v]) continue;
        int idx = oct_plan_add_tensor(plan, g->values[v].name);
        if (idx < 0) {
            st = oct_fail(err, OCT_E_NOMEM, "out of memory");
            break;
        }
        oct_plan_tensor *t = &plan->tensors[idx];
        t->has_stats = 1;
        oct_hist_stats(col.h[v], &t->stats);
        t->precision = (scheme_all || int8[v]) ? OCT_PREC_INT8 : OCT_PREC_FP32;
        if (co.asymmetric) {
            st = oct_calibrate_asym(cal, col.h[v], &cp, &t->min, &t->max, &t->scale, &t->zero_point, err);
            t->is_unsigned = 1;
            t->amax = t->max > -t->min ? t->max : -t->min;
        } else if (method_auto) {
            st = calibrate_auto(col.h[v], t, err);
        } else {
            st = oct_calibrate(cal, col.h[v], &cp, &t->amax, &t->scale, err);
        }
        if (st) oct_error_prefix(err, "tensor '%s': ", g->values[v].name);
    }
    if (!st) {
        char spec[64];
        if (method_auto) snprintf(spec, sizeof spec, "auto");
        else oct_calibrator_spec(cal, &cp, spec, sizeof spec);
        memcpy(plan->model_sha256, oct_model_sha256(m), 65);
        plan->model_path = m->path ? strdup(m->path) : NULL;
        plan->method = strdup(spec);
        plan->scheme = strdup(scheme_all ? "all" : "compute");
        plan->count = used;
        plan->data = co.data_desc ? strdup(co.data_desc) : NULL;
        plan->preprocess = co.preprocess_desc ? strdup(co.preprocess_desc) : NULL;
        plan->asymmetric = co.asymmetric;
        plan->weights = co.per_tensor_weights ? OCT_WEIGHTS_PER_TENSOR : OCT_WEIGHTS_PER_CHANNEL;
        plan->weight_bits = co.weight_bits;
        if (!plan->method || !plan->scheme) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    for (int v = 0; v < col.n; v++)
        if (col.h[v]) {
            oct_hist_free(col.h[v]);
            free(col.h[v]);
        }
    free(col.h);
    free(int8);
    oct_session_free(s);
    if (skipped_out) *skipped_out = skipped;
    if (st) {
        oct_plan_free(plan);
        return st;
    }
    *out = plan;
    return OCT_OK;
}
