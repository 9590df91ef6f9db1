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

/* What configurations are scored on (see scorer_make). */
typedef struct scorer {
    int n, total;
    int *v, *nch, *off;
    int *kidx; /* per value: its index among the scored, or -1 */
    unsigned char *tail; /* per scored tensor: an output after a selection */
    unsigned char *dep;  /* per value: computed from a selection's indices */
} scorer;

typedef struct sens_run {
    oct_session *s;
    cache *capture; /* non-NULL: copy each written value here (before fake quant) */
    /* non-NULL rr: score each scored value as its step writes it (later
     * steps may reuse its buffer), against ref */
    const scorer *sc;
    const cache *ref;
    double *rr, *ee;
} sens_run;

static void score_value(const scorer *sc, int k, const float *b, const cache *ref, double *rr, double *ee);

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
        for (int o = 0; r->rr && o < nv; o++) {
            int ki = r->sc->kidx[vals[o]];
            if (ki >= 0 && g->values[vals[o]].t.data) score_value(r->sc, ki, g->values[vals[o]].t.data, r->ref, r->rr, r->ee);
        }
    }
    r->s->ran = 1; /* its outputs hold a whole run's (task scorers read them) */
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

/* What a configuration is scored on. The network outputs, unless they come
 * out of a data-dependent selection (TopK indices, ArgMax, NMS, and the
 * Gathers that use them: YOLOv10's top-300 output reorders when any score
 * moves, so its SQNR says nothing about accuracy); then the tensors the
 * selection reads instead. A tensor with a short last axis (2..128: boxes and
 * class scores side by side) is scored per channel of that axis (see
 * score_db), so class scores near 0..1 are not drowned by box coordinates in
 * pixels. The score of a configuration is
 * the worst of its tensors'. A configuration that quantizes only a tensor
 * after the selection is also scored on the outputs: the selection then ran
 * in FP32 and picked the same elements, and an output that inherits one
 * shared scale (YOLOv10's [1,300,6] of boxes and scores) shows its damage. */

typedef struct score {
    int v;
    double *rr, *ee; /* per scored channel */
    double db;
    double task, fine; /* the task metric and its tie-breaker (NAN without) */
} score;

#define SCORE_MIN_DB (-20.0)
#define SCORE_MAX_DB 100.0

static int is_selector(const char *op) {
    return !strcmp(op, "TopK") || !strcmp(op, "ArgMax") || !strcmp(op, "ArgMin") ||
           !strcmp(op, "NonMaxSuppression");
}

static oct_status scorer_make(const oct_session *s, scorer *sc, oct_error *err) {
    const oct_graph *g = s->g;
    int n = g->n_values;
    unsigned char *dep = calloc((size_t)n + 1, 1), *pick = calloc((size_t)n + 1, 1);
    if (!dep || !pick) {
        free(dep);
        free(pick);
        return oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    /* nodes are in topological order */
    for (int i = 0; i < g->n_nodes; i++) {
        const oct_node *nd = &g->nodes[i];
        if (nd->dead) continue;
        int d = 0;
        for (int k = 0; k < nd->n_in; k++) d |= nd->in[k] >= 0 && dep[nd->in[k]];
        int sel = is_selector(nd->op_type);
        for (int o = 0; o < nd->n_out; o++) {
            if (nd->out[o] < 0) continue;
            /* TopK's values are continuous in its input; its indices are not */
            if (d || (sel && !(o == 0 && !strcmp(nd->op_type, "TopK")))) dep[nd->out[o]] = 1;
        }
        if (!d && !sel) continue;
        for (int k = 0; k < nd->n_in; k++) {
            int u = nd->in[k];
            if (u >= 0 && !dep[u] && !g->values[u].is_const && g->values[u].t.dtype == OCT_FLOAT) pick[u] = 1;
        }
    }
    /* outputs after a selection: scored only for configurations that change
     * a tensor after the selection too (the selection then picks the same
     * elements as in FP32, so the outputs compare element by element) */
    for (int k = 0; k < g->n_outputs; k++) {
        int v = g->outputs[k];
        if (g->values[v].t.dtype == OCT_FLOAT) pick[v] = dep[v] ? 2 : 1;
    }
    int any = 0;
    for (int v = 0; v < n; v++) any |= pick[v] == 1;
    if (!any)
        for (int k = 0; k < g->n_outputs; k++)
            if (g->values[g->outputs[k]].t.dtype == OCT_FLOAT) pick[g->outputs[k]] = 1;
    for (int v = 0; v < n; v++) sc->n += pick[v] != 0;
    sc->v = calloc((size_t)sc->n + 1, sizeof(int));
    sc->nch = calloc((size_t)sc->n + 1, sizeof(int));
    sc->off = calloc((size_t)sc->n + 1, sizeof(int));
    sc->kidx = malloc(((size_t)n + 1) * sizeof(int));
    sc->tail = calloc((size_t)sc->n + 1, 1);
    if (!sc->v || !sc->nch || !sc->off || !sc->kidx || !sc->tail) {
        free(dep);
        free(pick);
        return oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    int k = 0;
    for (int v = 0; v < n; v++) sc->kidx[v] = -1;
    for (int v = 0; v < n; v++) {
        if (!pick[v]) continue;
        sc->kidx[v] = k;
        sc->tail[k] = pick[v] == 2;
        const oct_tensor *t = &g->values[v].t;
        int64_t last = t->ndim >= 2 ? t->dims[t->ndim - 1] : 1;
        int plain = !s->exec.x.layout || s->exec.x.layout[v] == OCT_LAYOUT_PLAIN;
        sc->v[k] = v;
        sc->nch[k] = plain && last >= 2 && last <= 128 ? (int)last : 1;
        sc->off[k] = sc->total;
        sc->total += sc->nch[k];
        k++;
    }
    sc->dep = dep;
    free(pick);
    return OCT_OK;
}

static void scorer_free(scorer *sc) {
    free(sc->kidx);
    free(sc->tail);
    free(sc->dep);
    free(sc->v);
    free(sc->nch);
    free(sc->off);
}

static void score_value(const scorer *sc, int k, const float *b, const cache *ref, double *rr, double *ee) {
    int v = sc->v[k], nch = sc->nch[k];
    if (!ref->data[v]) return;
    const float *a = ref->data[v];
    size_t n = ref->bytes[v] / sizeof(float);
    double *r2 = rr + sc->off[k], *e2 = ee + sc->off[k];
    for (size_t i = 0; i < n; i++) {
        double r = a[i], e = (double)b[i] - a[i];
        if (!isfinite(r) || !isfinite(e)) continue;
        size_t c = nch > 1 ? i % (size_t)nch : 0;
        r2[c] += r * r;
        e2[c] += e * e;
    }
}

/* Before a partial run from step `from`: the scored values written earlier.
 * Those live at `from` were restored with the configuration's precision and
 * are scored as they are now; the others are the same as in the full run of
 * this configuration's session (img_rr/img_ee: that run's per-image sums). */
static void score_upstream(const scorer *sc, const graph_info *gi, const oct_session *s, int from, const cache *ref,
                           const double *img_rr, const double *img_ee, double *rr, double *ee) {
    for (int k = 0; k < sc->n; k++) {
        int v = sc->v[k], pr = gi->prod[v];
        if (pr == -2 || pr >= from) continue;
        if (gi->last[v] >= from && s->g->values[v].t.data) {
            score_value(sc, k, s->g->values[v].t.data, ref, rr, ee);
            continue;
        }
        for (int c = 0; c < sc->nch[k]; c++) {
            rr[sc->off[k] + c] += img_rr[sc->off[k] + c];
            ee[sc->off[k] + c] += img_ee[sc->off[k] + c];
        }
    }
}

static double clamp_db(double db) { return db < SCORE_MIN_DB ? SCORE_MIN_DB : db > SCORE_MAX_DB ? SCORE_MAX_DB : db; }

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Per tensor: the mean SQNR (dB) of its worst quarter of channels, so a
 * handful of ruined channels (a score column) is not averaged away by the
 * healthy ones, while one rare class does not decide alone. */
static double score_db(const scorer *sc, const double *rr, const double *ee, int with_tail) {
    double worst = INFINITY, db[128];
    for (int k = 0; k < sc->n; k++) {
        if (sc->tail[k] && !with_tail) continue;
        int nch = sc->nch[k];
        for (int c = 0; c < nch; c++) db[c] = clamp_db(oct_sqnr_db(rr[sc->off[k] + c], ee[sc->off[k] + c]));
        qsort(db, (size_t)nch, sizeof(double), cmp_double);
        int q = (nch + 3) / 4;
        double sum = 0;
        for (int c = 0; c < q; c++) sum += db[c];
        if (sum / q < worst) worst = sum / q;
    }
    return worst;
}

static int cmp_asc(const void *x, const void *y) {
    const score *a = x, *b = y;
    return a->db < b->db ? -1 : a->db > b->db;
}

static int cmp_desc(const void *x, const void *y) { return cmp_asc(y, x); }

/* worst first: by the task's continuous measure where it has one (a task
 * metric on a few images moves in steps), then the task metric, then the
 * SQNR */
static int cmp_task(const void *x, const void *y) {
    const score *a = x, *b = y;
    if (a->fine != b->fine && !isnan(a->fine) && !isnan(b->fine)) return a->fine < b->fine ? -1 : 1;
    if (a->task != b->task) return a->task < b->task ? -1 : 1;
    return cmp_asc(x, y);
}

static cJSON *ranking(const oct_session *s, score *sc, int n, int worst_first, int by_task) {
    qsort(sc, (size_t)n, sizeof *sc, by_task ? cmp_task : worst_first ? cmp_asc : cmp_desc);
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
        if (by_task) oct_json_add_num(o, "task", sc[i].task);
        if (by_task && !isnan(sc[i].fine)) oct_json_add_num(o, "task_fine", sc[i].fine);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

oct_status oct_sensitivity_run(const oct_model *m, const oct_session_options *so, const oct_plan *plan,
                               const oct_sample_cache *samples, int n_images, int only_ranking,
                               const oct_task_scorer *task, cJSON *doc,
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
    scorer sc = {0};
    double *sums = NULL;
    int nc = 0;
    oct_status st = oct_session_create_simulated(m, so, fp32w, &only.s, err);
    oct_plan_free(fp32w);
    if (!st) st = oct_session_create_simulated(m, so, plan, &except.s, err);
    if (!st) st = graph_info_make(except.s, &gi, err);
    if (!st) st = scorer_make(except.s, &sc, err);
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
    /* per configuration (and the plan itself, last): rr and ee per scored
     * channel */
    if (!st) {
        sums = calloc((size_t)(2 * nc + 1) * 2 * (size_t)(sc.total + 1), sizeof(double));
        if (!sums) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
        for (int i = 0; !st && i < nc; i++) {
            s_only[i].rr = sums + (size_t)(2 * i) * 2 * (size_t)(sc.total + 1);
            s_only[i].ee = s_only[i].rr + sc.total + 1;
            s_except[i].rr = sums + (size_t)(2 * i + 1) * 2 * (size_t)(sc.total + 1);
            s_except[i].ee = s_except[i].rr + sc.total + 1;
        }
    }
    if (!st && task) st = task->begin(task->user, nc, err);
    double *base_rr = sums ? sums + (size_t)(2 * nc) * 2 * (size_t)(sc.total + 1) : NULL;
    double *base_ee = base_rr ? base_rr + sc.total + 1 : NULL;
    /* this image's full runs: FP32 energies (rr, ee = 0), the plan's sums */
    double *img_sums = st ? NULL : calloc(4 * ((size_t)sc.total + 1), sizeof(double));
    if (!st && !img_sums) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
    only.sc = except.sc = &sc;
    only.ref = except.ref = &ca;
    for (int im = 0; !st && im < n_images; im++) {
        st = oct_sample_cache_set(samples, im, only.s, err);
        if (!st) st = oct_sample_cache_set(samples, im, except.s, err);
        /* full FP32 run, cached (scored against itself: the energies) */
        size_t tw = (size_t)sc.total + 1;
        memset(img_sums, 0, 4 * tw * sizeof(double));
        set_all(only.s, zero, n);
        only.capture = &ca;
        only.rr = img_sums;
        only.ee = img_sums + tw;
        for (int k = 0; !st && k < only.s->g->n_inputs; k++)
            st = cache_put(&ca, &only.s->g->values[only.s->g->inputs[k]].t, only.s->g->inputs[k], err);
        if (!st) st = run_steps(&only, 0, err);
        only.capture = NULL;
        if (!st && task) st = task->observe(task->user, -1, im, only.s, err);
        /* full plan run, cached before fake quantization */
        except.capture = &cb;
        except.rr = img_sums + 2 * tw;
        except.ee = img_sums + 3 * tw;
        for (int k = 0; !st && k < except.s->g->n_inputs; k++) {
            int v = except.s->g->inputs[k];
            st = cache_put(&cb, &except.s->g->values[v].t, v, err);
            if (!st) oct_sim_apply(except.s->sim, &except.s->g->values[v], v);
        }
        if (!st) st = run_steps(&except, 0, err);
        except.capture = NULL;
        for (size_t c = 0; c < tw; c++) {
            base_rr[c] += img_sums[2 * tw + c];
            base_ee[c] += img_sums[3 * tw + c];
        }
        for (int i = 0; !st && i < nc; i++) {
            int v = s_only[i].v, from = gi.prod[v] + 1;
            /* only v int8 */
            unsigned char *pv = oct_sim_precision(only.s->sim, v);
            *pv = OCT_PREC_INT8;
            restore(only.s, &gi, &ca, from);
            score_upstream(&sc, &gi, only.s, from, &ca, img_sums, img_sums + tw, s_only[i].rr, s_only[i].ee);
            only.rr = s_only[i].rr;
            only.ee = s_only[i].ee;
            st = run_steps(&only, from, err);
            /* outputs written before `from` were restored from the FP32 run */
            if (!st && task) st = task->observe(task->user, i, im, only.s, err);
            *pv = OCT_PREC_FP32;
            if (only_ranking) {
                if (progress) progress(progress_user, "sensitivity", im * nc + i + 1, n_images * nc);
                continue;
            }
            /* all but v int8 */
            unsigned char *qv = oct_sim_precision(except.s->sim, v);
            *qv = OCT_PREC_FP32;
            restore(except.s, &gi, &cb, from);
            score_upstream(&sc, &gi, except.s, from, &ca, img_sums + 2 * tw, img_sums + 3 * tw, s_except[i].rr,
                           s_except[i].ee);
            except.rr = s_except[i].rr;
            except.ee = s_except[i].ee;
            if (!st) st = run_steps(&except, from, err);
            *qv = OCT_PREC_INT8;
            if (progress) progress(progress_user, "sensitivity", im * nc + i + 1, n_images * nc);
        }
        if (st) oct_error_prefix(err, "sensitivity, sample %d: ", im);
    }
    if (!st) {
        for (int i = 0; i < nc; i++) {
            s_only[i].db = score_db(&sc, s_only[i].rr, s_only[i].ee, sc.dep[s_only[i].v]);
            s_except[i].db = score_db(&sc, s_except[i].rr, s_except[i].ee, 0);
            double r[2] = {NAN, NAN};
            if (!st && task) st = task->result(task->user, i, r, err);
            s_only[i].task = r[0];
            s_only[i].fine = r[1];
        }
    }
    if (!st) {
        cJSON *sens = cJSON_CreateObject();
        cJSON_AddStringToObject(sens, "score", "sqnr_db");
        if (task) cJSON_AddStringToObject(sens, "task", task->name ? task->name : "task");
        if (task && task->fine_name) cJSON_AddStringToObject(sens, "task_fine", task->fine_name);
        cJSON *on = cJSON_AddArrayToObject(sens, "scored_tensors");
        for (int k = 0; k < sc.n; k++)
            if (!sc.tail[k]) cJSON_AddItemToArray(on, cJSON_CreateString(except.s->g->values[sc.v[k]].name));
        cJSON_AddNumberToObject(sens, "images", n_images);
        oct_json_add_num(sens, "plan_score", score_db(&sc, base_rr, base_ee, 0));
        cJSON_AddItemToObject(sens, "only", ranking(only.s, s_only, nc, 1, task != NULL));
        if (!only_ranking) cJSON_AddItemToObject(sens, "except", ranking(except.s, s_except, nc, 0, 0));
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
    free(sums);
    free(img_sums);
    scorer_free(&sc);
    oct_session_free(only.s);
    oct_session_free(except.s);
    return st;
}
