/* octet analyze: the FP32 model and the plan (simulated) run side by side on
 * the same samples. For every floating-point activation the FP32 session
 * writes, a copy of its FP32 value is kept for the current sample; when the
 * simulated session writes the same value (its fake quantization applied),
 * the two are compared. Both sessions come from the same plan (the FP32 one
 * with every precision set to fp32), so their graphs, fusions and layouts
 * are identical and values line up index for index.
 *
 * Per tensor, over all samples: SQNR, cosine, relative L2 and max abs error
 * of the quantized run against FP32 (error accumulated upstream included);
 * the tensor's own quantization error (quantizing the exact FP32 value with
 * the plan's scale), saturation and zeroed rates; the FP32 range, a
 * streaming histogram of |x| and from it each calibrator's threshold on
 * these samples; per-channel ranges. The document layout is in
 * docs/analysis-json.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arith.h"
#include "quant/analyze.h"
#include "quant/calibrator.h"
#include "quant/diagnose.h"

#include "quant/histogram.h"
#include "quant/sim.h"
#include "quant/weights.h"

#define MAX_CHANNELS 1024
#define N_HIST_TENSORS 8
#define HIST_JSON_BINS 512

typedef struct acc {
    int tracked;
    float *ref; /* this sample's FP32 value */
    size_t n;
    /* quantized run vs FP32 */
    double s_rr, s_ee, s_rc, s_cc, max_err;
    int64_t n_meas_nz, n_meas_zero;
    /* own quantization (int8 tensors) */
    double s_own;
    int64_t n_sat, n_nz, n_zero;
    /* FP32 range */
    double min, max, absmax, s_abs;
    int64_t count;
    oct_histogram h;
    int has_h;
    float *ch_absmax, *ch_tmp;
    int nch;
    double partial;
    int has_partial;
} acc;

typedef struct ctx {
    oct_session *ref, *sim;
    acc *a;
    int n;
    int int8_run; /* the simulation's plan precisions (int8 tensors) */
} ctx;

cJSON *oct_json_num(double v) {
    if (isinf(v)) return cJSON_CreateString(v > 0 ? "inf" : "-inf");
    if (isnan(v)) return cJSON_CreateNull();
    return cJSON_CreateNumber(v);
}

void oct_json_add_num(cJSON *obj, const char *key, double v) { cJSON_AddItemToObject(obj, key, oct_json_num(v)); }

double oct_sqnr_db(double sum_ref2, double sum_err2) {
    if (sum_err2 <= 0) return INFINITY;
    if (sum_ref2 <= 0) return -INFINITY;
    return 10.0 * log10(sum_ref2 / sum_err2);
}

oct_plan *oct_plan_with_all(const oct_plan *plan, oct_precision p) {
    oct_plan *c = oct_plan_clone(plan);
    if (!c) return NULL;
    for (int i = 0; i < c->n_tensors; i++) c->tensors[i].precision = p;
    for (int i = 0; i < c->n_nodes; i++) c->nodes[i].precision = p;
    return c;
}

void oct_analyze_options_init(oct_analyze_options *o) {
    memset(o, 0, sizeof *o);
    o->sens_images = 4;
}

/* ---- the sample cache --------------------------------------------------- */

oct_status oct_sample_cache_load(oct_sample_cache *c, int n_inputs, int count, oct_sample_fn fn, void *user,
                                 int *skipped, oct_error *err) {
    memset(c, 0, sizeof *c);
    c->n_inputs = n_inputs;
    if (skipped) *skipped = 0;
    c->in = calloc((size_t)(count > 0 ? count : 1) * (size_t)n_inputs + 1, sizeof *c->in);
    if (!c->in) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    for (int i = 0; i < count; i++) {
        oct_tensor_view *v = &c->in[(size_t)c->n * (size_t)n_inputs];
        oct_error e = {0};
        oct_status st = fn(user, i, v, n_inputs, &e);
        if (st) {
            for (int k = 0; k < n_inputs; k++) {
                oct_free(v[k].data);
                memset(&v[k], 0, sizeof v[k]);
            }
            if (e.status == OCT_E_IO || st == OCT_E_IO) {
                if (skipped) (*skipped)++;
                continue;
            }
            if (err) *err = e;
            oct_sample_cache_free(c);
            return st;
        }
        c->n++;
    }
    return OCT_OK;
}

void oct_sample_cache_free(oct_sample_cache *c) {
    if (!c->in) return;
    for (size_t i = 0; i < (size_t)c->n * (size_t)c->n_inputs; i++) oct_free(c->in[i].data);
    free(c->in);
    memset(c, 0, sizeof *c);
}

oct_status oct_sample_cache_set(const oct_sample_cache *c, int i, oct_session *s, oct_error *err) {
    for (int k = 0; k < c->n_inputs; k++) {
        const char *name = s->g->values[s->g->inputs[k]].name;
        oct_status st = oct_session_set_input(s, name, &c->in[(size_t)i * (size_t)c->n_inputs + (size_t)k], err);
        if (st) {
            oct_error_prefix(err, "sample %d: ", i);
            return st;
        }
    }
    return OCT_OK;
}

/* ---- accumulation ------------------------------------------------------- */

static oct_status acc_init(acc *a, const oct_exec *x, int v, oct_error *err) {
    const oct_tensor *t = &x->g->values[v].t;
    a->tracked = 1;
    a->n = (size_t)oct_numel(t);
    a->ref = malloc(a->n ? a->n * sizeof(float) : sizeof(float));
    a->min = INFINITY;
    a->max = -INFINITY;
    if (!a->ref) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    OCT_TRY(oct_hist_init(&a->h, OCT_HIST_STREAMING, 0, err));
    a->has_h = 1;
    int c = t->ndim >= 3 ? (int)t->dims[1] : 0;
    if (c > 1 && c <= MAX_CHANNELS) {
        a->nch = c;
        a->ch_absmax = calloc((size_t)c, sizeof(float));
        a->ch_tmp = calloc((size_t)c, sizeof(float));
        if (!a->ch_absmax || !a->ch_tmp) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    return OCT_OK;
}

static void acc_free(acc *a) {
    free(a->ref);
    if (a->has_h) oct_hist_free(&a->h);
    free(a->ch_absmax);
    free(a->ch_tmp);
}

/* FP32 side: keep the value, its range, histogram, channels, and its own
 * quantization error under the plan's precision for it. */
static void observe_ref(ctx *c, int v) {
    acc *a = &c->a[v];
    const oct_exec *x = &c->ref->exec.x;
    const oct_tensor *t = &x->g->values[v].t;
    if (!t->data || (size_t)oct_numel(t) != a->n) return;
    const float *r = t->data;
    memcpy(a->ref, r, a->n * sizeof(float));
    oct_hist_observe(&a->h, r, a->n);
    const oct_sim *sim = c->sim->sim;
    unsigned char *pp = oct_sim_precision(c->sim->sim, v);
    float scale = oct_sim_scale(sim, v);
    int int8 = pp && *pp == OCT_PREC_INT8 && scale > 0;
    /* the plan's own error is judged on its symmetric range (asymmetric
     * plans go through oct_sim_apply in the run itself) */
    double amax = 127.0 * scale;
    for (size_t i = 0; i < a->n; i++) {
        double d = r[i];
        if (!isfinite(d)) continue;
        if (d < a->min) a->min = d;
        if (d > a->max) a->max = d;
        double ad = fabs(d);
        if (ad > a->absmax) a->absmax = ad;
        a->s_abs += ad;
        a->count++;
        if (!int8) continue;
        float q = oct_fake_quant_s8(r[i], scale);
        double e = d - q;
        a->s_own += e * e;
        if (ad > amax) a->n_sat++;
        if (d != 0) {
            a->n_nz++;
            if (q == 0) a->n_zero++;
        }
    }
    if (a->nch) {
        size_t outer, ch, inner;
        if (x->layout[v] == OCT_LAYOUT_NHWC) {
            outer = a->n / (size_t)a->nch;
            ch = (size_t)a->nch;
            inner = 1;
        } else if (oct_axis_split(t->dims, t->ndim, 1, &outer, &ch, &inner)) {
            return;
        }
        oct_absmax_channels(r, outer, ch, inner, a->ch_tmp);
        for (int k = 0; k < a->nch; k++)
            if (a->ch_tmp[k] > a->ch_absmax[k]) a->ch_absmax[k] = a->ch_tmp[k];
    }
}

static void compare(ctx *c, int v) {
    acc *a = &c->a[v];
    const oct_tensor *t = &c->sim->g->values[v].t;
    if (!t->data || (size_t)oct_numel(t) != a->n) return;
    const float *q = t->data;
    for (size_t i = 0; i < a->n; i++) {
        double r = a->ref[i], d = q[i];
        if (!isfinite(r) || !isfinite(d)) continue;
        double e = d - r;
        a->s_rr += r * r;
        a->s_ee += e * e;
        a->s_rc += r * d;
        a->s_cc += d * d;
        if (fabs(e) > a->max_err) a->max_err = fabs(e);
        if (r != 0) {
            a->n_meas_nz++;
            if (d == 0) a->n_meas_zero++;
        }
    }
}

static oct_status ref_obs(void *user, oct_graph *g, int node, int nv, const int *vals) {
    (void)g;
    (void)node;
    ctx *c = user;
    for (int i = 0; i < nv; i++)
        if (vals[i] < c->n && c->a[vals[i]].tracked) observe_ref(c, vals[i]);
    return OCT_OK;
}

static oct_status sim_obs(void *user, oct_graph *g, int node, int nv, const int *vals) {
    ctx *c = user;
    OCT_TRY(oct_sim_observe(c->sim->sim, g, node, nv, vals));
    for (int i = 0; i < nv; i++)
        if (vals[i] < c->n && c->a[vals[i]].tracked) compare(c, vals[i]);
    return OCT_OK;
}

/* ---- the document ------------------------------------------------------- */

static const char *plan_method(const oct_plan *p) { return p->method ? p->method : "entropy"; }

static void add_thresholds(cJSON *obj, const char *key, const oct_histogram *h) {
    cJSON *th = cJSON_AddObjectToObject(obj, key);
    for (const oct_calibrator *const *c = oct_calibrator_list(); *c; c++) {
        oct_calib_params cp;
        oct_calib_params_default(&cp);
        double amax = 0;
        if ((*c)->threshold(h, &cp, &amax, NULL) == OCT_OK) oct_json_add_num(th, (*c)->name, amax);
    }
}

static cJSON *names_array(void) { return cJSON_CreateArray(); }

static void add_tensor(cJSON *arr, const ctx *c, const oct_plan *plan, int v, int order) {
    const acc *a = &c->a[v];
    const oct_graph *g = c->sim->g;
    const oct_value *val = &g->values[v];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", val->name);
    cJSON_AddNumberToObject(o, "order", order);
    const oct_node *pn = val->producer >= 0 ? &g->nodes[val->producer] : NULL;
    if (pn) {
        cJSON_AddStringToObject(o, "producer", pn->name);
        cJSON_AddStringToObject(o, "producer_op", pn->op_type);
        cJSON *pi = cJSON_AddArrayToObject(o, "producer_inputs");
        for (int k = 0; k < pn->n_in; k++) {
            int u = pn->in[k];
            if (u >= 0 && !g->values[u].is_const && g->values[u].t.dtype == OCT_FLOAT)
                cJSON_AddItemToArray(pi, cJSON_CreateString(g->values[u].name));
        }
    } else {
        cJSON_AddNullToObject(o, "producer");
        cJSON_AddNullToObject(o, "producer_op");
        cJSON_AddItemToObject(o, "producer_inputs", names_array());
    }
    cJSON *cons = cJSON_AddArrayToObject(o, "consumers");
    for (int i = 0; i < g->n_nodes; i++) {
        const oct_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == v) {
                cJSON_AddItemToArray(cons, cJSON_CreateString(n->name));
                break;
            }
    }
    cJSON_AddBoolToObject(o, "is_input", val->is_input);
    cJSON_AddBoolToObject(o, "is_output", val->is_output);
    cJSON *sh = cJSON_AddArrayToObject(o, "shape");
    for (int d = 0; d < val->t.ndim; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)val->t.dims[d]));
    int pi = oct_plan_find_tensor(plan, val->name);
    const oct_plan_tensor *pt = pi >= 0 ? &plan->tensors[pi] : NULL;
    int int8 = pt && pt->precision == OCT_PREC_INT8;
    cJSON_AddStringToObject(o, "precision", oct_precision_name(pt ? pt->precision : OCT_PREC_FP32));
    if (pt && pt->scale > 0) {
        oct_json_add_num(o, "scale", pt->scale);
        oct_json_add_num(o, "amax", pt->amax);
        if (pt->method) cJSON_AddStringToObject(o, "method", pt->method);
    } else {
        cJSON_AddNullToObject(o, "scale");
        cJSON_AddNullToObject(o, "amax");
    }
    if (pt && pt->has_stats) {
        cJSON *cs = cJSON_AddObjectToObject(o, "calib");
        oct_json_add_num(cs, "min", pt->stats.min);
        oct_json_add_num(cs, "max", pt->stats.max);
        oct_json_add_num(cs, "absmax", pt->stats.absmax);
        oct_json_add_num(cs, "p9999", pt->stats.p9999);
    }
    cJSON *ob = cJSON_AddObjectToObject(o, "observed");
    oct_json_add_num(ob, "min", a->count ? a->min : NAN);
    oct_json_add_num(ob, "max", a->count ? a->max : NAN);
    oct_json_add_num(ob, "absmax", a->absmax);
    oct_json_add_num(ob, "p9999", oct_hist_percentile(&a->h, 99.99));
    oct_json_add_num(ob, "mean_abs", a->count ? a->s_abs / (double)a->count : NAN);
    oct_json_add_num(o, "sqnr_db", oct_sqnr_db(a->s_rr, a->s_ee));
    double den = sqrt(a->s_rr) * sqrt(a->s_cc);
    oct_json_add_num(o, "cosine", den > 0 ? a->s_rc / den : (a->s_rr == a->s_cc ? 1.0 : 0.0));
    oct_json_add_num(o, "rel_l2", a->s_rr > 0 ? sqrt(a->s_ee / a->s_rr) : (a->s_ee > 0 ? INFINITY : 0.0));
    oct_json_add_num(o, "max_abs_err", a->max_err);
    if (int8) {
        oct_json_add_num(o, "own_sqnr_db", oct_sqnr_db(a->s_rr, a->s_own));
        oct_json_add_num(o, "saturation_rate", a->count ? (double)a->n_sat / (double)a->count : 0.0);
        oct_json_add_num(o, "zeroed_rate", a->n_nz ? (double)a->n_zero / (double)a->n_nz : 0.0);
    } else {
        cJSON_AddNullToObject(o, "own_sqnr_db");
        cJSON_AddNullToObject(o, "saturation_rate");
        if (val->is_output)
            oct_json_add_num(o, "zeroed_rate", a->n_meas_nz ? (double)a->n_meas_zero / (double)a->n_meas_nz : 0.0);
        else
            cJSON_AddNullToObject(o, "zeroed_rate");
    }
    if (a->nch) {
        cJSON *ch = cJSON_AddObjectToObject(o, "channels");
        cJSON_AddNumberToObject(ch, "axis", 1);
        cJSON *ab = cJSON_AddArrayToObject(ch, "absmax");
        for (int k = 0; k < a->nch; k++) cJSON_AddItemToArray(ab, oct_json_num(a->ch_absmax[k]));
    }
    add_thresholds(o, "thresholds", &a->h);
    if (a->has_partial) oct_json_add_num(o, "threshold_partial", a->partial);
    cJSON_AddItemToArray(arr, o);
}

static void add_histogram(cJSON *arr, const acc *a, const char *name, const cJSON *tensor) {
    const oct_histogram *h = &a->h;
    double w = oct_hist_bin_width(h);
    if (!(w > 0) || !h->bins) return;
    int used = (int)ceil(a->absmax / w);
    if (used < 1) used = 1;
    if (used > h->nbins) used = h->nbins;
    int merge = (used + HIST_JSON_BINS - 1) / HIST_JSON_BINS;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "tensor", name);
    oct_json_add_num(o, "absmax", a->absmax);
    oct_json_add_num(o, "bin_width", w * merge);
    cJSON *counts = cJSON_AddArrayToObject(o, "counts");
    for (int b = 0; b < used; b += merge) {
        double sum = 0;
        for (int k = b; k < b + merge && k < h->nbins; k++) sum += (double)h->bins[k];
        cJSON_AddItemToArray(counts, cJSON_CreateNumber(sum));
    }
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(tensor, "thresholds");
    if (th) cJSON_AddItemToObject(o, "thresholds", cJSON_Duplicate(th, 1));
    const cJSON *amax = cJSON_GetObjectItemCaseSensitive(tensor, "amax");
    if (amax) cJSON_AddItemToObject(o, "plan", cJSON_Duplicate(amax, 1));
    cJSON_AddItemToArray(arr, o);
}

static void add_weights_and_nodes(cJSON *doc, const oct_graph *g, const oct_plan *plan, double *flops_total,
                                  double *flops_out, int *n_int8, int *n_float) {
    cJSON *wi = cJSON_AddArrayToObject(doc, "weights_info");
    cJSON *pn = cJSON_AddArrayToObject(doc, "plan_nodes");
    *flops_total = *flops_out = 0;
    *n_int8 = *n_float = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const oct_node *n = &g->nodes[i];
        if (n->dead) continue;
        int k = oct_plan_find_node(plan, n->name);
        oct_precision p = k >= 0 ? plan->nodes[k].precision : OCT_PREC_FP32;
        double fl = oct_node_flops(g, n);
        *flops_total += fl;
        if (p != OCT_PREC_INT8) *flops_out += fl;
        if (p == OCT_PREC_INT8) (*n_int8)++;
        else (*n_float)++;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "node", n->name);
        cJSON_AddStringToObject(o, "op", n->op_type);
        cJSON_AddStringToObject(o, "precision", oct_precision_name(p));
        cJSON_AddNumberToObject(o, "flops", fl);
        cJSON_AddItemToArray(pn, o);
        int wk = oct_weight_input(n->op_type);
        if (wk < 0 || wk >= n->n_in || n->in[wk] < 0 || !g->values[n->in[wk]].is_const) continue;
        const oct_tensor *w = &g->values[n->in[wk]].t;
        if (w->dtype != OCT_FLOAT || !w->data || oct_numel(w) == 0) continue;
        int axis = oct_weight_channel_axis(n->op_type, w->ndim, oct_attr_int(n, "group", 1),
                                           oct_attr_int(n, "transB", 0), OCT_WEIGHTS_PER_CHANNEL);
        size_t outer = 1, ch = 1, inner = (size_t)oct_numel(w);
        if (axis >= 0 && oct_axis_split(w->dims, w->ndim, axis, &outer, &ch, &inner)) continue;
        float *am = malloc(ch * sizeof(float));
        if (!am) continue;
        oct_absmax_channels(w->data, outer, ch, inner, am);
        float *sorted = malloc(ch * sizeof(float));
        if (sorted) {
            memcpy(sorted, am, ch * sizeof(float));
            for (size_t x = 1; x < ch; x++) /* insertion sort: channel counts are small */
                for (size_t y = x; y > 0 && sorted[y - 1] > sorted[y]; y--) {
                    float tmp = sorted[y];
                    sorted[y] = sorted[y - 1];
                    sorted[y - 1] = tmp;
                }
            cJSON *o2 = cJSON_CreateObject();
            cJSON_AddStringToObject(o2, "node", n->name);
            cJSON_AddStringToObject(o2, "op", n->op_type);
            cJSON_AddStringToObject(o2, "precision", oct_precision_name(p));
            cJSON_AddBoolToObject(o2, "per_tensor", plan->weights == OCT_WEIGHTS_PER_TENSOR);
            cJSON_AddNumberToObject(o2, "channels", (double)ch);
            oct_json_add_num(o2, "absmax_min", sorted[0]);
            oct_json_add_num(o2, "absmax_median", sorted[ch / 2]);
            oct_json_add_num(o2, "absmax_max", sorted[ch - 1]);
            cJSON_AddNumberToObject(o2, "flops", fl);
            cJSON_AddItemToArray(wi, o2);
        }
        free(sorted);
        free(am);
    }
}

static int cmp_sqnr(const void *x, const void *y) {
    const double *a = x, *b = y;
    return a[0] < b[0] ? -1 : a[0] > b[0];
}

static oct_status build_doc(ctx *c, const oct_model *m, const oct_plan *plan, const oct_analyze_options *ao,
                            int images, double seconds, cJSON **out, oct_error *err) {
    cJSON *doc = cJSON_CreateObject();
    if (!doc) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    const oct_graph *g = c->sim->g;
    cJSON_AddStringToObject(doc, "format", "octet-analysis");
    cJSON_AddNumberToObject(doc, "version", 1);
    cJSON_AddStringToObject(doc, "model", m->path ? m->path : "");
    cJSON_AddStringToObject(doc, "plan", ao->plan_desc ? ao->plan_desc : "");
    cJSON_AddNumberToObject(doc, "images", images);
    cJSON_AddStringToObject(doc, "data", ao->data_desc ? ao->data_desc : "");
    cJSON_AddNumberToObject(doc, "seconds", seconds);
    cJSON_AddStringToObject(doc, "plan_method", plan_method(plan));
    cJSON_AddStringToObject(doc, "plan_scheme", plan->scheme ? plan->scheme : "");
    cJSON_AddStringToObject(doc, "weights", plan->weights == OCT_WEIGHTS_PER_TENSOR ? "per-tensor" : "per-channel");
    cJSON_AddNumberToObject(doc, "weight_bits", oct_plan_weight_bits(plan));
    /* how the weights were made (octet calibrate --ptq), as the plan says */
    if (plan->ptq_json) {
        cJSON *ptq = cJSON_Parse(plan->ptq_json);
        if (ptq) cJSON_AddItemToObject(doc, "ptq", ptq);
    }
    cJSON *summary = cJSON_AddObjectToObject(doc, "summary");
    cJSON *tensors = cJSON_AddArrayToObject(doc, "tensors");
    /* order: graph inputs, then as the steps write them */
    int order = 0, n_int8 = 0, n_float = 0;
    unsigned char *done = calloc((size_t)c->n + 1, 1);
    if (!done) {
        cJSON_Delete(doc);
        return oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    for (int k = 0; k < g->n_inputs; k++) {
        int v = g->inputs[k];
        if (c->a[v].tracked && !done[v]) {
            done[v] = 1;
            add_tensor(tensors, c, plan, v, order++);
        }
    }
    const oct_plan_exec *pe = &c->sim->exec;
    for (int s = 0; s < pe->n_steps; s++)
        for (int o = 0; o < pe->steps[s]->n_out; o++) {
            int v = pe->steps[s]->out_values[o];
            if (v < 0 || v >= c->n || !c->a[v].tracked || done[v]) continue;
            done[v] = 1;
            add_tensor(tensors, c, plan, v, order++);
        }
    free(done);
    /* summary: outputs and counts */
    cJSON *outs = cJSON_AddArrayToObject(summary, "outputs");
    double o_rr = 0, o_ee = 0;
    for (int k = 0; k < g->n_outputs; k++) {
        int v = g->outputs[k];
        if (v >= c->n || !c->a[v].tracked) continue;
        const acc *a = &c->a[v];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", g->values[v].name);
        oct_json_add_num(o, "sqnr_db", oct_sqnr_db(a->s_rr, a->s_ee));
        double den = sqrt(a->s_rr) * sqrt(a->s_cc);
        oct_json_add_num(o, "cosine", den > 0 ? a->s_rc / den : (a->s_rr == a->s_cc ? 1.0 : 0.0));
        oct_json_add_num(o, "rel_l2", a->s_rr > 0 ? sqrt(a->s_ee / a->s_rr) : 0.0);
        oct_json_add_num(o, "max_abs_err", a->max_err);
        oct_json_add_num(o, "zeroed_rate", a->n_meas_nz ? (double)a->n_meas_zero / (double)a->n_meas_nz : 0.0);
        cJSON_AddItemToArray(outs, o);
        o_rr += a->s_rr;
        o_ee += a->s_ee;
    }
    cJSON_AddStringToObject(summary, "metric", "sqnr_db");
    cJSON_AddNullToObject(summary, "fp32");
    oct_json_add_num(summary, "plan", oct_sqnr_db(o_rr, o_ee));
    cJSON *t;
    cJSON_ArrayForEach(t, tensors) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(t, "precision");
        if (cJSON_IsString(p) && !strcmp(p->valuestring, "int8")) n_int8++;
        else n_float++;
    }
    cJSON_AddNumberToObject(summary, "int8_tensors", n_int8);
    cJSON_AddNumberToObject(summary, "float_tensors", n_float);
    double fl_total, fl_out;
    int nn8, nnf;
    /* the FP32 session's weights: the simulated session's copy is fake-quantized
     * already (a per-tensor scale rounds small channels to 0) */
    add_weights_and_nodes(doc, c->ref->g, plan, &fl_total, &fl_out, &nn8, &nnf);
    cJSON_AddNumberToObject(summary, "int8_nodes", nn8);
    cJSON_AddNumberToObject(summary, "float_nodes", nnf);
    cJSON_AddNumberToObject(summary, "flops_total", fl_total);
    cJSON_AddNumberToObject(summary, "flops_outside_int8", fl_out);
    /* histograms of the worst int8 tensors */
    int nt = cJSON_GetArraySize(tensors), k8 = 0;
    double *rank = malloc(sizeof(double) * 2 * (size_t)(nt + 1));
    if (rank) {
        int idx = 0;
        cJSON_ArrayForEach(t, tensors) {
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(t, "precision");
            const cJSON *q = cJSON_GetObjectItemCaseSensitive(t, "sqnr_db");
            if (cJSON_IsString(p) && !strcmp(p->valuestring, "int8") && cJSON_IsNumber(q)) {
                rank[2 * k8] = q->valuedouble;
                rank[2 * k8 + 1] = idx;
                k8++;
            }
            idx++;
        }
        qsort(rank, (size_t)k8, 2 * sizeof(double), cmp_sqnr);
        cJSON *hs = cJSON_AddArrayToObject(doc, "histograms");
        for (int i = 0; i < k8 && i < N_HIST_TENSORS; i++) {
            const cJSON *tt = cJSON_GetArrayItem(tensors, (int)rank[2 * i + 1]);
            const char *name = cJSON_GetObjectItemCaseSensitive(tt, "name")->valuestring;
            int v = oct_graph_find((oct_graph *)g, name);
            if (v >= 0 && v < c->n) add_histogram(hs, &c->a[v], name, tt);
        }
        free(rank);
    }
    *out = doc;
    return OCT_OK;
}

/* After 3/4 of the samples: the plan method's threshold so far, to tell
 * whether thresholds still move with more data. */
static void partial_thresholds(ctx *c, const oct_plan *plan) {
    oct_calib_params cp;
    const oct_calibrator *cal = oct_calibrator_find(plan_method(plan), &cp, NULL);
    if (!cal) return;
    for (int v = 0; v < c->n; v++) {
        acc *a = &c->a[v];
        double amax;
        if (a->tracked && cal->threshold(&a->h, &cp, &amax, NULL) == OCT_OK) {
            a->partial = amax;
            a->has_partial = 1;
        }
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

oct_status oct_analyze(const oct_model *m, const oct_session_options *so, const oct_plan *plan,
                       const oct_analyze_options *ao_in, int count, oct_sample_fn fn, void *user,
                       oct_analysis **out, int *skipped, oct_error *err) {
    if (!m || !plan || !fn || !out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_analyze: NULL argument");
    *out = NULL;
    oct_analyze_options ao;
    if (ao_in) ao = *ao_in;
    else oct_analyze_options_init(&ao);
    if (count < 1) return oct_fail(err, OCT_E_INVALID_ARG, "analysis needs at least one sample");
    OCT_TRY(oct_plan_check(plan, m, err));
    double t0 = now_s();
    ctx c = {0};
    oct_plan *fp32 = oct_plan_with_all(plan, OCT_PREC_FP32);
    if (!fp32) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    oct_status st = oct_session_create_simulated(m, so, fp32, &c.ref, err);
    if (!st) st = oct_session_create_simulated(m, so, plan, &c.sim, err);
    oct_plan_free(fp32);
    oct_sample_cache samples = {0};
    cJSON *doc = NULL;
    if (!st && (c.ref->g->n_values != c.sim->g->n_values || c.ref->exec.n_steps != c.sim->exec.n_steps))
        st = oct_fail(err, OCT_E_RUNTIME, "analysis: the FP32 and simulated sessions differ in structure");
    if (!st) {
        c.n = c.sim->g->n_values;
        c.a = calloc((size_t)c.n + 1, sizeof(acc));
        if (!c.a) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    /* tracked: float graph inputs and every float value a step writes */
    const oct_exec *x = st ? NULL : &c.ref->exec.x;
    for (int k = 0; !st && k < c.ref->g->n_inputs; k++) {
        int v = c.ref->g->inputs[k];
        if (c.ref->g->values[v].t.dtype == OCT_FLOAT && !c.a[v].tracked) st = acc_init(&c.a[v], x, v, err);
    }
    for (int s = 0; !st && s < c.ref->exec.n_steps; s++) {
        const oct_kernel *k = c.ref->exec.steps[s];
        for (int o = 0; o < k->n_out && !st; o++) {
            int v = k->out_values[o];
            if (v < 0 || c.ref->g->values[v].is_shadow || c.ref->g->values[v].t.dtype != OCT_FLOAT || c.a[v].tracked)
                continue;
            st = acc_init(&c.a[v], x, v, err);
        }
    }
    int nskip = 0;
    if (!st) st = oct_sample_cache_load(&samples, c.ref->g->n_inputs, count, fn, user, &nskip, err);
    if (!st && samples.n == 0) st = oct_fail(err, OCT_E_INVALID_ARG, "no usable sample (%d skipped)", nskip);
    int partial_at = samples.n >= 4 ? (3 * samples.n + 3) / 4 : -1;
    for (int i = 0; !st && i < samples.n; i++) {
        st = oct_sample_cache_set(&samples, i, c.ref, err);
        if (!st) st = oct_sample_cache_set(&samples, i, c.sim, err);
        for (int k = 0; !st && k < c.ref->g->n_inputs; k++) {
            int v = c.ref->g->inputs[k];
            if (c.a[v].tracked) observe_ref(&c, v);
        }
        c.ref->observer = ref_obs;
        c.ref->observer_user = &c;
        if (!st) st = oct_session_run(c.ref, err);
        c.sim->observer = sim_obs;
        c.sim->observer_user = &c;
        if (!st) st = oct_session_run(c.sim, err);
        for (int k = 0; !st && k < c.sim->g->n_inputs; k++) {
            int v = c.sim->g->inputs[k];
            if (c.a[v].tracked) compare(&c, v);
        }
        if (st) oct_error_prefix(err, "sample %d: ", i);
        if (!st && i + 1 == partial_at) partial_thresholds(&c, plan);
        if (!st && ao.progress) ao.progress(ao.progress_user, "analyze", i + 1, samples.n);
    }
    if (!st) st = build_doc(&c, m, plan, &ao, samples.n, now_s() - t0, &doc, err);
    /* the per-value copies are large: free them before the sensitivity runs */
    if (c.a)
        for (int v = 0; v < c.n; v++) acc_free(&c.a[v]);
    free(c.a);
    oct_session_free(c.ref);
    oct_session_free(c.sim);
    if (!st && ao.sensitivity) {
        int k = ao.sens_images > 0 ? ao.sens_images : 4;
        st = oct_sensitivity_run(m, so, plan, &samples, k < samples.n ? k : samples.n, 0, ao.task, doc, ao.progress,
                                 ao.progress_user, err);
    }
    oct_sample_cache_free(&samples);
    /* diagnosis: the rules read the document and add "diagnoses" (diagnose.c) */
    if (!st) st = oct_diagnose(doc, err);
    if (!st) {
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "seconds"), now_s() - t0);
        *out = calloc(1, sizeof **out);
        if (!*out) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
        else (*out)->doc = doc;
    }
    if (st) cJSON_Delete(doc);
    if (skipped) *skipped = nskip;
    return st;
}

char *oct_analysis_json(const oct_analysis *a) { return a && a->doc ? cJSON_Print(a->doc) : NULL; }

void oct_analysis_free(oct_analysis *a) {
    if (!a) return;
    cJSON_Delete(a->doc);
    free(a);
}
