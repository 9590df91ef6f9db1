/* octet tune: the smallest mixed-precision plan that meets an accuracy
 * target (see oct_tune in include/octet/quant.h for the search).
 *
 * The unit of the search is an INT8 tensor, as in TensorRT's explicit
 * quantization where a Q/DQ pair on a tensor decides what runs in INT8:
 * keeping a tensor out of INT8 leaves it in the fallback precision and puts
 * every node that reads it in the fallback precision too (its weights are
 * rounded to that format instead of quantized), so the plan, the Q/DQ export
 * and the trtexec layer precisions agree. */
#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/analyze.h"

void oct_tune_options_init(oct_tune_options *o) {
    memset(o, 0, sizeof *o);
    o->fallback = OCT_PREC_FP16;
    o->sens_images = 8;
    o->max_evals = 24;
    o->report_images = 16;
}

oct_status oct_target_parse(const char *expr, oct_target *t, oct_error *err) {
    memset(t, 0, sizeof *t);
    const char *p = expr ? expr : "";
    size_t n = 0;
    while (isspace((unsigned char)*p)) p++;
    while ((isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '.') && n < sizeof t->metric - 1) n++;
    if (!n) goto bad;
    memcpy(t->metric, p, n);
    t->metric[n] = 0;
    p += n;
    while (isspace((unsigned char)*p)) p++;
    if (p[0] == '>' && p[1] == '=') p += 2;
    else if (p[0] == '>') {
        t->strict = 1;
        p++;
    } else {
        goto bad;
    }
    while (isspace((unsigned char)*p)) p++;
    if (!strncmp(p, "fp32", 4)) {
        t->value = 1.0;
        t->relative = 1;
        p += 4;
    } else {
        char *e;
        t->value = strtod(p, &e);
        if (e == p || !isfinite(t->value)) goto bad;
        p = e;
        while (isspace((unsigned char)*p)) p++;
        if (*p == '*') {
            p++;
            while (isspace((unsigned char)*p)) p++;
            if (strncmp(p, "fp32", 4)) goto bad;
            t->relative = 1;
            p += 4;
        }
    }
    while (isspace((unsigned char)*p)) p++;
    if (*p) goto bad;
    static const char *const known[] = {"map50_95", "map50", "map75", "top1", "top5", "sqnr", NULL};
    for (int k = 0; known[k]; k++)
        if (!strcmp(t->metric, known[k])) return OCT_OK;
    return oct_fail(err, OCT_E_INVALID_ARG, "target '%s': unknown metric '%s' (map50_95, map50, map75, top1, top5, sqnr)",
                    expr, t->metric);
bad:
    return oct_fail(err, OCT_E_INVALID_ARG,
                    "target '%s' does not parse: expected METRIC>=VALUE or METRIC>=FACTOR*fp32, e.g. "
                    "map50_95>=0.99*fp32, top1>=0.995*fp32, sqnr>=30",
                    expr ? expr : "(null)");
}

typedef struct tuner {
    const oct_tune_options *to;
    const oct_plan *base;
    oct_graph *g; /* the optimised graph: consumers and FLOPs */
    oct_plan_metric_fn metric;
    void *metric_user;
    double threshold;
    int evals;
    cJSON *steps;
    double flops_total;
    /* the best plan seen (highest metric) */
    oct_plan *best;
    double best_metric;
    int best_met;
} tuner;

static void logf_(const tuner *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const tuner *t, const char *fmt, ...) {
    if (!t->to->log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    t->to->log(t->to->log_user, line);
}

static int meets(const tuner *t, double x) {
    return t->to->target.strict ? x > t->threshold : x >= t->threshold;
}

/* The plan with the first n tensors of `names` kept out of INT8. */
static oct_plan *with_fallback(const tuner *t, char **names, const unsigned char *use, int n) {
    oct_plan *p = oct_plan_clone(t->base);
    if (!p) return NULL;
    const oct_graph *g = t->g;
    for (int i = 0; i < n; i++) {
        if (use && !use[i]) continue;
        int k = oct_plan_find_tensor(p, names[i]);
        if (k >= 0) p->tensors[k].precision = (oct_precision)t->to->fallback;
        int v = oct_graph_find(g, names[i]);
        if (v < 0) continue;
        for (int j = 0; j < g->n_nodes; j++) {
            const oct_node *nd = &g->nodes[j];
            if (nd->dead) continue;
            for (int q = 0; q < nd->n_in; q++)
                if (nd->in[q] == v) {
                    int kn = oct_plan_find_node(p, nd->name);
                    if (kn >= 0 && p->nodes[kn].precision == OCT_PREC_INT8)
                        p->nodes[kn].precision = (oct_precision)t->to->fallback;
                    break;
                }
        }
    }
    return p;
}

static void plan_flops(const tuner *t, const oct_plan *p, double *outside, int *n_nodes) {
    *outside = 0;
    *n_nodes = 0;
    for (int j = 0; j < t->g->n_nodes; j++) {
        const oct_node *nd = &t->g->nodes[j];
        if (nd->dead) continue;
        int k = oct_plan_find_node(p, nd->name);
        if (k >= 0 && p->nodes[k].precision == OCT_PREC_INT8) continue;
        *outside += oct_node_flops(t->g, nd);
        if (k >= 0 && p->nodes[k].precision != OCT_PREC_FP32) (*n_nodes)++;
    }
}

/* Evaluates p (takes ownership), records the step; returns the metric. */
static oct_status evaluate(tuner *t, oct_plan *p, const char *what, int n_fallback, double *x, int *ok,
                           oct_error *err) {
    oct_status st = t->metric(t->metric_user, p, x, err);
    t->evals++;
    if (st) {
        oct_plan_free(p);
        return st;
    }
    *ok = meets(t, *x);
    double outside;
    int nn;
    plan_flops(t, p, &outside, &nn);
    double share = t->flops_total > 0 ? outside / t->flops_total : 0;
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "step", what);
    oct_json_add_num(s, "metric", *x);
    cJSON_AddBoolToObject(s, "met", *ok);
    cJSON_AddNumberToObject(s, "fallback_tensors", n_fallback);
    cJSON_AddNumberToObject(s, "fallback_nodes", nn);
    oct_json_add_num(s, "flops_outside_int8", share);
    cJSON_AddItemToArray(t->steps, s);
    logf_(t, "%-34s %s %.4f (%s)  %d tensors / %d nodes kept in %s, %.2f%% of FLOPs outside INT8", what,
          t->to->target.metric, *x, *ok ? "meets the target" : "below the target", n_fallback, nn,
          oct_precision_name((oct_precision)t->to->fallback), 100 * share);
    /* keep the best: met beats not met; then fewer FLOPs outside INT8 when
     * both meet (the search only shrinks), else the higher metric */
    int better = !t->best || (*ok && !t->best_met) || (!*ok && !t->best_met && *x > t->best_metric) ||
                 (*ok && t->best_met);
    if (better) {
        oct_plan_free(t->best);
        t->best = p;
        t->best_metric = *x;
        t->best_met = *ok;
    } else {
        oct_plan_free(p);
    }
    return OCT_OK;
}

/* The order in which tensors leave INT8: by the error each causes alone
 * (the "only" ranking: noise-to-signal 10^(-score/10) at the scored
 * outputs) per share of FLOPs it takes out of INT8 (the nodes reading it),
 * so the cheap head tensors that do damage go first and an expensive Conv
 * input only when it matters. EPS_FLOPS keeps free tensors finite. */
#define EPS_FLOPS 1e-4

typedef struct cand {
    const char *name;
    int tier; /* 2: lowers the task's continuous measure, 1: the metric */
    double priority;
} cand;

static int cmp_cand(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->tier != y->tier) return y->tier - x->tier;
    return x->priority > y->priority ? -1 : x->priority < y->priority;
}

static double fallback_cost(const tuner *t, const char *name) {
    const oct_graph *g = t->g;
    int v = oct_graph_find(g, name);
    double fl = 0;
    if (v < 0 || !(t->flops_total > 0)) return 0;
    for (int j = 0; j < g->n_nodes; j++) {
        const oct_node *nd = &g->nodes[j];
        if (nd->dead) continue;
        int k = oct_plan_find_node(t->base, nd->name);
        if (k < 0 || t->base->nodes[k].precision != OCT_PREC_INT8) continue;
        for (int q = 0; q < nd->n_in; q++)
            if (nd->in[q] == v) {
                fl += oct_node_flops(g, nd);
                break;
            }
    }
    return fl / t->flops_total;
}

/* With a task metric: the tensors whose "only" configuration lowers its
 * continuous measure (detection: the fidelity of FP32's boxes) come first,
 * by the drop per FLOP share (the best configuration is the reference:
 * label-free measures score FP32 itself as perfect); then those that lower
 * the task metric itself (it moves in steps on a few images); then the
 * rest by the SQNR priority. */
static int ranking_names(const tuner *t, const cJSON *sens, char ***out) {
    const cJSON *only = cJSON_GetObjectItemCaseSensitive(sens, "only");
    int n = cJSON_GetArraySize(only), k = 0;
    char **names = calloc((size_t)n + 1, sizeof(char *));
    cand *c = calloc((size_t)n + 1, sizeof(cand));
    if (!names || !c) {
        free(names);
        free(c);
        return -1;
    }
    const cJSON *e;
    double best = -INFINITY, best_fine = -INFINITY;
    cJSON_ArrayForEach(e, only) {
        const cJSON *tk = cJSON_GetObjectItemCaseSensitive(e, "task");
        const cJSON *tf = cJSON_GetObjectItemCaseSensitive(e, "task_fine");
        if (cJSON_IsNumber(tk) && tk->valuedouble > best) best = tk->valuedouble;
        if (cJSON_IsNumber(tf) && tf->valuedouble > best_fine) best_fine = tf->valuedouble;
    }
    cJSON_ArrayForEach(e, only) {
        const cJSON *tn = cJSON_GetObjectItemCaseSensitive(e, "tensor");
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(e, "score");
        const cJSON *tk = cJSON_GetObjectItemCaseSensitive(e, "task");
        const cJSON *tf = cJSON_GetObjectItemCaseSensitive(e, "task_fine");
        if (!cJSON_IsString(tn)) continue;
        double db = cJSON_IsNumber(sc) ? sc->valuedouble : 100.0;
        double cost = fallback_cost(t, tn->valuestring) + EPS_FLOPS;
        double drop = cJSON_IsNumber(tk) ? best - tk->valuedouble : 0;
        double fine = cJSON_IsNumber(tf) ? best_fine - tf->valuedouble : 0;
        c[k].name = tn->valuestring;
        c[k].tier = fine > 0 ? 2 : drop > 0 ? 1 : 0;
        c[k].priority = fine > 0 ? fine / cost : drop > 0 ? drop / cost : pow(10.0, -db / 10.0) / cost;
        k++;
    }
    qsort(c, (size_t)k, sizeof *c, cmp_cand);
    for (int i = 0; i < k; i++) names[i] = (char *)c[i].name;
    free(c);
    *out = names;
    return k;
}

/* Moves to the front of names the tensors that the diagnosis' errors would
 * keep out of INT8: the int8 activation inputs of the nodes each error's
 * fix lists, and the graph outputs those nodes write. Returns how many. */
static int put_diagnosed_first(const tuner *t, const cJSON *doc, char **names, int n) {
    const oct_graph *g = t->g;
    int front = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "diagnoses")) {
        const cJSON *sev = cJSON_GetObjectItemCaseSensitive(d, "severity");
        if (!cJSON_IsString(sev) || strcmp(sev->valuestring, "error")) continue;
        const cJSON *nn;
        cJSON_ArrayForEach(nn, cJSON_GetObjectItemCaseSensitive(d, "fallback")) {
            if (!cJSON_IsString(nn)) continue;
            for (int j = 0; j < g->n_nodes; j++) {
                const oct_node *nd = &g->nodes[j];
                if (nd->dead || strcmp(nd->name, nn->valuestring)) continue;
                for (int q = 0; q < nd->n_in + nd->n_out; q++) {
                    int v = q < nd->n_in ? nd->in[q] : nd->out[q - nd->n_in];
                    if (v < 0 || (q >= nd->n_in && !g->values[v].is_output)) continue;
                    for (int i = front; i < n; i++)
                        if (!strcmp(names[i], g->values[v].name)) {
                            char *tmp = names[i];
                            memmove(&names[front + 1], &names[front], (size_t)(i - front) * sizeof *names);
                            names[front++] = tmp;
                            break;
                        }
                }
            }
        }
    }
    return front;
}

oct_status oct_tune(const oct_model *m, const oct_session_options *so, const oct_plan *base,
                    const oct_tune_options *to_in, int count, oct_sample_fn fn, void *user, oct_plan_metric_fn metric,
                    void *metric_user, oct_plan **out, int *met, oct_analysis **report, oct_error *err) {
    if (!m || !base || !fn || !metric || !out || !met) return oct_fail(err, OCT_E_INVALID_ARG, "oct_tune: NULL argument");
    *out = NULL;
    *met = 0;
    if (report) *report = NULL;
    oct_tune_options to;
    if (to_in) to = *to_in;
    else oct_tune_options_init(&to);
    if (to.fallback == OCT_PREC_INT8 || to.fallback < 0 || to.fallback > OCT_PREC_BF16)
        return oct_fail(err, OCT_E_INVALID_ARG, "the fallback precision must be fp16, bf16 or fp32");
    if (to.max_evals < 2) to.max_evals = 2;
    OCT_TRY(oct_plan_check(base, m, err));
    tuner t = {0};
    t.to = &to;
    t.base = base;
    t.metric = metric;
    t.metric_user = metric_user;
    t.steps = cJSON_CreateArray();
    oct_sample_cache samples = {0};
    cJSON *sens_doc = cJSON_CreateObject();
    char **names = NULL;
    oct_analysis *diag = NULL;
    int n_names = 0, n_diag = 0, hi = -1;
    unsigned char *use = NULL;
    double fp32 = NAN, x = 0;
    int ok = 0;
    oct_status st = oct_session_prepare_graph(m, so, 1, &t.g, err);
    if (!st && (!t.steps || !sens_doc)) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
    for (int j = 0; !st && j < t.g->n_nodes; j++)
        if (!t.g->nodes[j].dead) t.flops_total += oct_node_flops(t.g, &t.g->nodes[j]);
    /* the bound */
    if (!st) st = metric(metric_user, NULL, &fp32, err);
    if (!st) {
        t.threshold = to.target.relative ? to.target.value * fp32 : to.target.value;
        logf_(&t, "FP32 %s %.4f; target %s %s %.4f", to.target.metric, fp32, to.target.metric,
              to.target.strict ? ">" : ">=", t.threshold);
    }
    /* pure INT8 */
    if (!st) {
        oct_plan *p = oct_plan_clone(base);
        st = p ? evaluate(&t, p, "all INT8", 0, &x, &ok, err) : oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    if (!st && !ok) {
        int k = to.sens_images > 0 ? to.sens_images : 4;
        if (k > count) k = count;
        int skipped = 0;
        st = oct_sample_cache_load(&samples, t.g->n_inputs, k, fn, user, &skipped, err);
        if (!st && !samples.n) st = oct_fail(err, OCT_E_INVALID_ARG, "no usable sample for the sensitivity ranking");
        if (!st)
            st = oct_sensitivity_run(m, so, base, &samples, samples.n, 1, to.task, sens_doc, to.progress,
                                     to.progress_user, err);
        oct_sample_cache_free(&samples);
        if (!st) {
            n_names = ranking_names(&t, cJSON_GetObjectItemCaseSensitive(sens_doc, "sensitivity"), &names);
            if (n_names < 0) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
        }
        /* the diagnosis' fixes first: the tensors its errors name */
        if (!st && n_names > 0) {
            oct_analyze_options ao;
            oct_analyze_options_init(&ao);
            st = oct_analyze(m, so, base, &ao, k, fn, user, &diag, NULL, err);
            if (!st) n_diag = put_diagnosed_first(&t, diag->doc, names, n_names);
            if (!st && n_diag > 0)
                logf_(&t, "the diagnosis keeps %d tensors out of INT8 first (its errors' fixes)", n_diag);
        }
        if (!st && n_names > n_diag)
            logf_(&t, "then by error per FLOP, first: %s", names[n_diag]);
        /* grow the prefix: the diagnosed, then 1, 2, 4, ... more */
        int lo = 0, L = n_diag > 0 ? n_diag : 1, more = n_diag > 0 ? 0 : 1;
        while (!st && n_names > 0 && t.evals < to.max_evals) {
            if (L > n_names) L = n_names;
            char what[64];
            snprintf(what, sizeof what, "keep the first %d out of INT8", L);
            oct_plan *p = with_fallback(&t, names, NULL, L);
            st = p ? evaluate(&t, p, what, L, &x, &ok, err) : oct_fail(err, OCT_E_NOMEM, "out of memory");
            if (st) break;
            if (ok) {
                hi = L;
                break;
            }
            lo = L;
            if (L == n_names) break;
            more = more ? 2 * more : 1;
            L = (n_diag > 0 ? n_diag : 0) + more;
            if (L <= lo) L = lo + 1;
        }
        /* bisect (lo fails, hi meets) */
        while (!st && hi > 0 && hi - lo > 1 && t.evals < to.max_evals) {
            int mid = (lo + hi) / 2;
            char what[64];
            snprintf(what, sizeof what, "keep the first %d out of INT8", mid);
            oct_plan *p = with_fallback(&t, names, NULL, mid);
            st = p ? evaluate(&t, p, what, mid, &x, &ok, err) : oct_fail(err, OCT_E_NOMEM, "out of memory");
            if (st) break;
            if (ok) hi = mid;
            else lo = mid;
        }
        /* minimise: each kept tensor back to INT8 where the target holds,
         * least sensitive first */
        if (!st && hi > 0) {
            use = malloc((size_t)hi);
            if (!use) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
            else memset(use, 1, (size_t)hi);
            int kept = hi;
            for (int i = hi - 1; !st && i >= 0 && kept > 1 && t.evals < to.max_evals; i--) {
                use[i] = 0;
                char what[96];
                snprintf(what, sizeof what, "try %.60s in INT8", names[i]);
                oct_plan *p = with_fallback(&t, names, use, hi);
                st = p ? evaluate(&t, p, what, kept - 1, &x, &ok, err) : oct_fail(err, OCT_E_NOMEM, "out of memory");
                if (!st && ok) kept--;
                else use[i] = 1;
            }
        }
    }
    if (!st && !t.best) st = oct_fail(err, OCT_E_RUNTIME, "tuning evaluated no plan");
    if (!st) {
        *met = t.best_met;
        if (!t.best_met)
            logf_(&t, "the target is not reachable with %d evaluations: the best plan reaches %.4f", t.evals,
                  t.best_metric);
    }
    /* the report: the final plan analysed, the ranking and the steps */
    oct_analysis *an = NULL;
    if (!st && report && to.report_images > 0) {
        oct_analyze_options ao;
        oct_analyze_options_init(&ao);
        ao.progress = to.progress;
        ao.progress_user = to.progress_user;
        ao.plan_desc = "the tuned plan";
        int n = to.report_images < count ? to.report_images : count;
        st = oct_analyze(m, so, t.best, &ao, n, fn, user, &an, NULL, err);
    }
    if (!st && an) {
        cJSON *doc = an->doc;
        cJSON *sens = cJSON_DetachItemFromObjectCaseSensitive(sens_doc, "sensitivity");
        if (sens) {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, "sensitivity");
            cJSON_AddItemToObject(doc, "sensitivity", sens);
        }
        cJSON *sum = cJSON_GetObjectItemCaseSensitive(doc, "summary");
        cJSON_ReplaceItemInObjectCaseSensitive(sum, "metric", cJSON_CreateString(to.target.metric));
        cJSON_ReplaceItemInObjectCaseSensitive(sum, "fp32", oct_json_num(fp32));
        cJSON_ReplaceItemInObjectCaseSensitive(sum, "plan", oct_json_num(t.best_metric));
        cJSON *tj = cJSON_AddObjectToObject(doc, "tune");
        cJSON_AddStringToObject(tj, "target", to.target_desc ? to.target_desc : to.target.metric);
        cJSON_AddStringToObject(tj, "fallback_precision", oct_precision_name((oct_precision)to.fallback));
        cJSON_AddBoolToObject(tj, "met", t.best_met);
        oct_json_add_num(tj, "threshold", t.threshold);
        cJSON_AddNumberToObject(tj, "evaluations", t.evals);
        cJSON_AddItemToObject(tj, "steps", t.steps);
        t.steps = NULL;
        cJSON *fb = cJSON_AddArrayToObject(tj, "fallback_nodes");
        cJSON *fbt = cJSON_AddArrayToObject(tj, "fallback_tensors");
        for (int i = 0; i < t.best->n_nodes; i++)
            if (t.best->nodes[i].precision != OCT_PREC_INT8 && base->nodes[i].precision == OCT_PREC_INT8)
                cJSON_AddItemToArray(fb, cJSON_CreateString(t.best->nodes[i].name));
        for (int i = 0; i < t.best->n_tensors; i++)
            if (t.best->tensors[i].precision != OCT_PREC_INT8 && base->tensors[i].precision == OCT_PREC_INT8)
                cJSON_AddItemToArray(fbt, cJSON_CreateString(t.best->tensors[i].name));
        double outside;
        int nn;
        plan_flops(&t, t.best, &outside, &nn);
        oct_json_add_num(tj, "flops_outside_int8", t.flops_total > 0 ? outside / t.flops_total : 0);
        *report = an;
        an = NULL;
    }
    oct_analysis_free(an);
    if (!st) {
        *out = t.best;
        t.best = NULL;
    }
    oct_plan_free(t.best);
    cJSON_Delete(t.steps);
    cJSON_Delete(sens_doc);
    oct_analysis_free(diag);
    free(names);
    free(use);
    oct_graph_free(t.g);
    return st;
}
