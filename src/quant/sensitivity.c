/* Layer sensitivity, two rankings over the plan's INT8 tensors, scored by
 * the SQNR of the network outputs against FP32:
 *   only:   this tensor INT8, everything else FP32 (weights FP32 too);
 *   except: everything as the plan says, but this tensor FP32.
 *
 * A tensor's quantization only changes what runs after the step that writes
 * it, so each configuration reruns only the steps downstream: per sample,
 * one full FP32 run and one full plan run are cached (every value a step
 * writes, the plan run's before fake quantization), and each configuration
 * restores the values live at its first step from the cache, applies its
 * precision to the changed tensor, and runs the remaining steps. On
 * yolov10n that halves the work against full reruns on average. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/analyze.h"
#include "quant/sim.h"

typedef struct cache {
    void **data; /* per value: a copy of its bytes, NULL when not cached */
    size_t *bytes;
} cache;

typedef struct graph_info {
    int n_values, n_steps;
    int *prod;  /* step writing the value (-1: input, -2: never written) */
    int *last;  /* last step reading it (n_steps for graph outputs) */
} graph_info;

typedef struct sens_run {
    oct_session *s;
    cache *capture; /* non-NULL: copy each written value here (before fake quant) */
} sens_run;

static void cache_free(cache *c, int n) {
    if (!c->data) return;
    for (int v = 0; v < n; v++) free(c->data[v]);
    free(c->data);
    free(c->bytes);
    memset(c, 0, sizeof *c);
}

static oct_status cache_put(cache *c, const oct_tensor *t, int v, oct_error *err) {
    size_t nb = oct_nbytes(t);
    if (!t->data) return OCT_OK;
    if (!c->data[v] || c->bytes[v] != nb) {
        free(c->data[v]);
        c->data[v] = malloc(nb ? nb : 1);
        c->bytes[v] = nb;
        if (!c->data[v]) return oct_fail(err, OCT_E_NOMEM, "out of memory (sensitivity cache)");
    }
    memcpy(c->data[v], t->data, nb);
    return OCT_OK;
}

/* Runs steps [from, n_steps) of s; after each step the written values are
 * captured (when asked) and then given their simulated precision. */
static oct_status run_steps(sens_run *r, int from, oct_error *err) {
    oct_plan_exec *p = &r->s->exec;
    oct_graph *g = r->s->g;
    for (int st = from; st < p->n_steps; st++) {
        oct_kernel *k = p->steps[st];
        OCT_TRY(k->run(k, &p->x, err));
        int vals[OCT_KERNEL_MAX_OUT], nv = 0;
        for (int o = 0; o < k->n_out; o++) {
            int v = k->out_values[o];
            if (v < 0) continue;
            if (r->capture) OCT_TRY(cache_put(r->capture, &g->values[v].t, v, err));
            if (!g->values[v].is_shadow) vals[nv++] = v;
        }
        if (nv) OCT_TRY(oct_sim_observe(r->s->sim, g, k->node, nv, vals));
    }
    return OCT_OK;
}

static void set_all(oct_session *s, const unsigned char *prec, int n) {
    for (int v = 0; v < n; v++) {
        unsigned char *p = oct_sim_precision(s->sim, v);
        if (p) *p = prec[v];
    }
}

/* Restores every value live at step `from` (graph inputs included) from c
 * and applies the session's current precisions to them: the tensor a
 * configuration changes is among them, since its step is `from` - 1. */
static void restore(oct_session *s, const graph_info *gi, const cache *c, int from) {
    oct_graph *g = s->g;
    for (int v = 0; v < gi->n_values; v++) {
        int pr = gi->prod[v];
        if (pr == -2 || !c->data[v]) continue;
        if (pr >= from || gi->last[v] < from) continue;
        oct_tensor *t = &g->values[v].t;
        if (!t->data || oct_nbytes(t) != c->bytes[v]) continue;
        memcpy(t->data, c->data[v], c->bytes[v]);
        if (!g->values[v].is_shadow) oct_sim_apply(s->sim, &g->values[v], v);
    }
}

static oct_status graph_info_make(const oct_session *s, graph_info *gi, oct_error *err) {
    const oct_graph *g = s->g;
    const oct_plan_exec *p = &s->exec;
    gi->n_values = g->n_values;
    gi->n_steps = p->n_steps;
    gi->prod = malloc(sizeof(int) * ((size_t)g->n_values + 1));
    gi->last = malloc(sizeof(int) * ((size_t)g->n_values + 1));
    if (!gi->prod || !gi->last) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    for (int v = 0; v < g->n_values; v++) {
        gi->prod[v] = g->values[v].is_input ? -1 : -2;
        gi->last[v] = g->values[v].is_output ? p->n_steps : -1;
    }
    for (int st = 0; st < p->n_steps; st++) {
        const oct_kernel *k = p->steps[st];
        for (int o = 0; o < k->n_out; o++)
            if (k->out_values[o] >= 0 && gi->prod[k->out_values[o]] == -2) gi->prod[k->out_values[o]] = st;
        for (int i = 0; i < k->n_in; i++)
            if (k->in_values[i] >= 0 && gi->last[k->in_values[i]] < st) gi->last[k->in_values[i]] = st;
    }
    return OCT_OK;
}

typedef struct score {
    int v;
    double rr, ee;
    double db;
} score;

static void add_output_error(const oct_session *s, const cache *fp32, double *rr, double *ee) {
    const oct_graph *g = s->g;
    for (int k = 0; k < g->n_outputs; k++) {
        int v = g->outputs[k];
        const oct_tensor *t = &g->values[v].t;
        if (t->dtype != OCT_FLOAT || !t->data || !fp32->data[v]) continue;
        const float *a = fp32->data[v], *b = t->data;
        size_t n = fp32->bytes[v] / sizeof(float);
        for (size_t i = 0; i < n; i++) {
            double r = a[i], e = (double)b[i] - a[i];
            if (!isfinite(r) || !isfinite(e)) continue;
            *rr += r * r;
            *ee += e * e;
        }
    }
}

static int cmp_asc(const void *x, const void *y) {
    const score *a = x, *b = y;
    return a->db < b->db ? -1 : a->db > b->db;
}

static int cmp_desc(const void *x, const void *y) { return cmp_asc(y, x); }

static cJSON *ranking(const oct_session *s, score *sc, int n, int worst_first) {
    qsort(sc, (size_t)n, sizeof *sc, worst_first ? cmp_asc : cmp_desc);
    cJSON *arr = cJSON_CreateArray();
    const oct_graph *g = s->g;
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "tensor", g->values[sc[i].v].name);
        cJSON *nodes = cJSON_AddArrayToObject(o, "nodes");
        for (int j = 0; j < g->n_nodes; j++) {
            const oct_node *nd = &g->nodes[j];
            if (nd->dead) continue;
            for (int k = 0; k < nd->n_in; k++)
                if (nd->in[k] == sc[i].v) {
                    cJSON_AddItemToArray(nodes, cJSON_CreateString(nd->name));
                    break;
                }
        }
        oct_json_add_num(o, "score", sc[i].db);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

oct_status oct_sensitivity_run(const oct_model *m, const oct_session_options *so, const oct_plan *plan,
                               const oct_sample_cache *samples, int n_images, cJSON *doc,
                               void (*progress)(void *user, const char *phase, int done, int total),
                               void *progress_user, oct_error *err) {
    if (n_images < 1) return oct_fail(err, OCT_E_INVALID_ARG, "sensitivity needs at least one sample");
    oct_plan *fp32w = oct_plan_clone(plan);
    if (!fp32w) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    for (int i = 0; i < fp32w->n_nodes; i++) fp32w->nodes[i].precision = OCT_PREC_FP32;
    sens_run only = {0}, except = {0};
    graph_info gi = {0};
    cache ca = {0}, cb = {0};
    unsigned char *plan_prec = NULL, *zero = NULL;
    score *s_only = NULL, *s_except = NULL;
    int nc = 0;
    oct_status st = oct_session_create_simulated(m, so, fp32w, &only.s, err);
    oct_plan_free(fp32w);
    if (!st) st = oct_session_create_simulated(m, so, plan, &except.s, err);
    if (!st) st = graph_info_make(except.s, &gi, err);
    int n = gi.n_values;
    if (!st) {
        ca.data = calloc((size_t)n + 1, sizeof(void *));
        ca.bytes = calloc((size_t)n + 1, sizeof(size_t));
        cb.data = calloc((size_t)n + 1, sizeof(void *));
        cb.bytes = calloc((size_t)n + 1, sizeof(size_t));
        plan_prec = calloc((size_t)n + 1, 1);
        zero = calloc((size_t)n + 1, 1);
        s_only = calloc((size_t)n + 1, sizeof(score));
        s_except = calloc((size_t)n + 1, sizeof(score));
        if (!ca.data || !ca.bytes || !cb.data || !cb.bytes || !plan_prec || !zero || !s_only || !s_except)
            st = oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    /* the candidates: int8 tensors of the plan, in step order */
    for (int v = 0; !st && v < n; v++) {
        unsigned char *p = oct_sim_precision(except.s->sim, v);
        plan_prec[v] = p ? *p : 0;
        if (plan_prec[v] == OCT_PREC_INT8 && gi.prod[v] != -2 && !except.s->g->values[v].is_shadow) {
            s_only[nc].v = s_except[nc].v = v;
            nc++;
        }
    }
    double base_rr = 0, base_ee = 0;
    for (int img = 0; !st && img < n_images; img++) {
        st = oct_sample_cache_set(samples, img, only.s, err);
        if (!st) st = oct_sample_cache_set(samples, img, except.s, err);
        /* full FP32 run, cached */
        set_all(only.s, zero, n);
        only.capture = &ca;
        for (int k = 0; !st && k < only.s->g->n_inputs; k++)
            st = cache_put(&ca, &only.s->g->values[only.s->g->inputs[k]].t, only.s->g->inputs[k], err);
        if (!st) st = run_steps(&only, 0, err);
        only.capture = NULL;
        /* full plan run, cached before fake quantization */
        except.capture = &cb;
        for (int k = 0; !st && k < except.s->g->n_inputs; k++) {
            int v = except.s->g->inputs[k];
            st = cache_put(&cb, &except.s->g->values[v].t, v, err);
            if (!st) oct_sim_apply(except.s->sim, &except.s->g->values[v], v);
        }
        if (!st) st = run_steps(&except, 0, err);
        except.capture = NULL;
        if (!st) add_output_error(except.s, &ca, &base_rr, &base_ee);
        for (int i = 0; !st && i < nc; i++) {
            int v = s_only[i].v, from = gi.prod[v] + 1;
            /* only v int8 */
            unsigned char *pv = oct_sim_precision(only.s->sim, v);
            *pv = OCT_PREC_INT8;
            restore(only.s, &gi, &ca, from);
            st = run_steps(&only, from, err);
            *pv = OCT_PREC_FP32;
            if (!st) add_output_error(only.s, &ca, &s_only[i].rr, &s_only[i].ee);
            /* all but v int8 */
            unsigned char *qv = oct_sim_precision(except.s->sim, v);
            *qv = OCT_PREC_FP32;
            restore(except.s, &gi, &cb, from);
            if (!st) st = run_steps(&except, from, err);
            *qv = OCT_PREC_INT8;
            if (!st) add_output_error(except.s, &ca, &s_except[i].rr, &s_except[i].ee);
            if (progress) progress(progress_user, "sensitivity", img * nc + i + 1, n_images * nc);
        }
        if (st) oct_error_prefix(err, "sensitivity, sample %d: ", img);
    }
    if (!st) {
        for (int i = 0; i < nc; i++) {
            s_only[i].db = oct_sqnr_db(s_only[i].rr, s_only[i].ee);
            s_except[i].db = oct_sqnr_db(s_except[i].rr, s_except[i].ee);
        }
        cJSON *sens = cJSON_CreateObject();
        cJSON_AddStringToObject(sens, "score", "sqnr_db");
        cJSON_AddNumberToObject(sens, "images", n_images);
        oct_json_add_num(sens, "plan_score", oct_sqnr_db(base_rr, base_ee));
        cJSON_AddItemToObject(sens, "only", ranking(only.s, s_only, nc, 1));
        cJSON_AddItemToObject(sens, "except", ranking(except.s, s_except, nc, 0));
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "sensitivity");
        cJSON_AddItemToObject(doc, "sensitivity", sens);
    }
    cache_free(&ca, n);
    cache_free(&cb, n);
    free(gi.prod);
    free(gi.last);
    free(plan_prec);
    free(zero);
    free(s_only);
    free(s_except);
    oct_session_free(only.s);
    oct_session_free(except.s);
    return st;
}
