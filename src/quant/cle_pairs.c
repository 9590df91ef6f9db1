/* The pair search of cross-layer equalization (cle.h): every Conv whose
 * output reaches a Conv's data input directly, through one activation, or
 * through SiLU; the pairs that can be equalized exactly are kept, the others
 * are reported with the reason. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/cle_internal.h"

static oct_status nomem(oct_cle_ctx *x) { return oct_fail(x->err, OCT_E_NOMEM, "out of memory"); }

static int is_op(const oct_node *n, const char *op) {
    return !n->dead && (!*n->domain || !strcmp(n->domain, "ai.onnx")) && !strcmp(n->op_type, op);
}

/* Commute with a positive per-channel scale: f(x / s) = f(x) / s. Clip does
 * too once its bounds are divided by s. */
static int homogeneous(const oct_node *n) {
    return is_op(n, "Relu") || is_op(n, "LeakyRelu") || is_op(n, "PRelu") || is_op(n, "Clip");
}

static int other_activation(const oct_node *n) {
    static const char *const ops[] = {"Sigmoid",  "Tanh",     "HardSwish", "HardSigmoid",
                                      "Elu",      "Selu",     "Celu",      "Gelu",
                                      "Softplus", "Softsign", "Mish",      "ThresholdedRelu"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (is_op(n, ops[i])) return 1;
    return 0;
}

/* A constant float32 value: an initializer or a Constant node's tensor. */
static const oct_tensor *const_of(const oct_graph *g, int v) {
    if (v < 0) return NULL;
    const oct_value *val = &g->values[v];
    const oct_tensor *t = NULL;
    if (val->is_const)
        t = &val->t;
    else if (val->producer >= 0 && is_op(&g->nodes[val->producer], "Constant"))
        t = oct_attr_tensor(&g->nodes[val->producer], "value");
    return t && t->data && t->dtype == OCT_FLOAT ? t : NULL;
}

static oct_status skip(oct_cle_ctx *x, int n1, int n2, oct_cle_skip_reason r, const char *detail) {
    oct_cle_report *rep = x->rep;
    oct_cle_skip *s = realloc(rep->skipped, (size_t)(rep->n_skipped + 1) * sizeof *s);
    if (!s) return nomem(x);
    rep->skipped = s;
    s += rep->n_skipped;
    s->conv1 = strdup(x->g->nodes[n1].name);
    s->conv2 = strdup(x->g->nodes[n2].name);
    s->detail = strdup(detail);
    s->reason = r;
    rep->n_skipped++;
    rep->skipped_by_reason[r]++;
    return s->conv1 && s->conv2 && s->detail ? OCT_OK : nomem(x);
}

/* Why the Conv `n` cannot take part (as Conv1 when first), or -1. */
static int conv_problem(oct_cle_ctx *x, int n, int first, char *why, size_t len) {
    const oct_node *c = &x->g->nodes[n];
    const oct_tensor *w = c->n_in > 1 ? const_of(x->g, c->in[1]) : NULL;
    if (!w) {
        snprintf(why, len, "the weights of '%s' are not a constant float32 tensor", c->name);
        return OCT_CLE_SKIP_WEIGHTS;
    }
    if (x->use[c->in[1]] != 1) {
        snprintf(why, len, "weight '%s' is read by %d nodes", x->g->values[c->in[1]].name,
                 x->use[c->in[1]]);
        return OCT_CLE_SKIP_WEIGHTS;
    }
    int64_t group = oct_attr_int(c, "group", 1);
    if (w->ndim != 4 || group < 1 || w->dims[0] % group || w->dims[0] > INT32_MAX ||
        w->dims[1] * group > INT32_MAX || oct_numel(w) == 0) {
        snprintf(why, len, "'%s' is not a 2-D convolution with %lld groups over weights of rank %d",
                 c->name, (long long)group, w->ndim);
        return OCT_CLE_SKIP_SHAPE;
    }
    int bi = c->n_in > 2 ? c->in[2] : -1;
    if (!first || bi < 0) return -1;
    const oct_tensor *b = const_of(x->g, bi);
    if (!b || oct_numel(b) != w->dims[0]) {
        snprintf(why, len, "the bias of '%s' is not a constant float32 vector of %lld", c->name,
                 (long long)w->dims[0]);
        return OCT_CLE_SKIP_WEIGHTS;
    }
    if (x->use[bi] != 1) {
        snprintf(why, len, "bias '%s' is read by %d nodes", x->g->values[bi].name, x->use[bi]);
        return OCT_CLE_SKIP_WEIGHTS;
    }
    return -1;
}

/* The Clip's bounds as constant scalars; -1 when they are not. */
static int clip_bounds(const oct_cle_ctx *x, const oct_node *n, float *lo, float *hi) {
    *lo = -INFINITY;
    *hi = INFINITY;
    if (n->opset < 11) {
        const oct_attr *a = oct_attr_find(n, "min"), *b = oct_attr_find(n, "max");
        if (a) *lo = a->f;
        if (b) *hi = b->f;
        return 0;
    }
    for (int k = 1; k < 3 && k < n->n_in; k++) {
        if (n->in[k] < 0) continue;
        const oct_tensor *t = const_of(x->g, n->in[k]);
        if (!t || oct_numel(t) != 1) return -1;
        *(k == 1 ? lo : hi) = ((const float *)t->data)[0];
    }
    return 0;
}

static oct_status conv_entry(oct_cle_ctx *x, int n, int *out) {
    if (x->conv_of_node[n] >= 0) {
        *out = x->conv_of_node[n];
        return OCT_OK;
    }
    const oct_node *c = &x->g->nodes[n];
    oct_cle_conv *cv = realloc(x->convs, (size_t)(x->n_convs + 1) * sizeof *cv);
    if (!cv) return nomem(x);
    x->convs = cv;
    cv += x->n_convs;
    memset(cv, 0, sizeof *cv);
    cv->node = n;
    cv->w = const_of(x->g, c->in[1]);
    cv->wname = x->g->values[c->in[1]].name;
    if (c->n_in > 2 && c->in[2] >= 0) {
        cv->b = const_of(x->g, c->in[2]);
        cv->bname = x->g->values[c->in[2]].name;
    }
    cv->group = (int)oct_attr_int(c, "group", 1);
    cv->cout = (int)cv->w->dims[0];
    cv->cpg = (int)cv->w->dims[1];
    cv->opg = cv->cout / cv->group;
    size_t k = (size_t)(cv->w->dims[2] * cv->w->dims[3]), rows = (size_t)cv->cout * (size_t)cv->cpg;
    size_t cin = (size_t)cv->cpg * (size_t)cv->group;
    cv->amax = malloc(rows * sizeof *cv->amax);
    cv->sout = malloc((size_t)cv->cout * sizeof *cv->sout);
    cv->sin = malloc(cin * sizeof *cv->sin);
    x->n_convs++; /* counted now so that ctx_free releases a partial entry */
    if (!cv->amax || !cv->sout || !cv->sin) return nomem(x);
    const float *w = cv->w->data;
    for (size_t r = 0; r < rows; r++) {
        float m = 0;
        for (size_t t = 0; t < k; t++)
            m = fmaxf(m, fabsf(w[r * k + t]));
        cv->amax[r] = m;
    }
    for (int o = 0; o < cv->cout; o++)
        cv->sout[o] = 1;
    for (size_t i = 0; i < cin; i++)
        cv->sin[i] = 1;
    *out = x->conv_of_node[n] = x->n_convs - 1;
    return OCT_OK;
}

/* Conv n1 -> (act) -> Conv n2: checked, then kept or reported. */
static oct_status consider(oct_cle_ctx *x, int n1, int act, int n2) {
    const oct_graph *g = x->g;
    char why[512];
    int v1 = g->nodes[n1].out[0];
    int mid[2] = {v1, act >= 0 ? g->nodes[act].out[0] : -1};
    for (int k = 0; k < 2; k++) {
        if (mid[k] < 0) continue;
        const oct_value *v = &g->values[mid[k]];
        if (v->is_output || x->use[mid[k]] != 1) {
            snprintf(why, sizeof why, "'%s' %s", v->name,
                     v->is_output ? "is a graph output" : "has other readers");
            return skip(x, n1, n2, OCT_CLE_SKIP_FANOUT, why);
        }
    }
    int r = conv_problem(x, n1, 1, why, sizeof why);
    if (r < 0) r = conv_problem(x, n2, 0, why, sizeof why);
    if (r >= 0) return skip(x, n1, n2, (oct_cle_skip_reason)r, why);
    const oct_tensor *w1 = const_of(g, g->nodes[n1].in[1]), *w2 = const_of(g, g->nodes[n2].in[1]);
    if (w2->dims[1] * oct_attr_int(&g->nodes[n2], "group", 1) != w1->dims[0]) {
        snprintf(why, sizeof why, "'%s' has %lld output channels, '%s' reads %lld",
                 g->nodes[n1].name, (long long)w1->dims[0], g->nodes[n2].name,
                 (long long)(w2->dims[1] * oct_attr_int(&g->nodes[n2], "group", 1)));
        return skip(x, n1, n2, OCT_CLE_SKIP_SHAPE, why);
    }
    oct_cle_cand c = {-1, -1, act, 0, -INFINITY, INFINITY};
    if (act >= 0 && is_op(&g->nodes[act], "Clip")) {
        c.is_clip = 1;
        if (clip_bounds(x, &g->nodes[act], &c.lo, &c.hi) || g->nodes[act].opset < 8) {
            snprintf(why, sizeof why, "Clip '%s': %s", g->nodes[act].name,
                     g->nodes[act].opset < 8 ? "opset < 8 has no broadcasting Max/Min"
                                             : "its bounds are not constant scalars");
            return skip(x, n1, n2, OCT_CLE_SKIP_CLIP, why);
        }
    }
    OCT_TRY(conv_entry(x, n1, &c.c1));
    OCT_TRY(conv_entry(x, n2, &c.c2));
    if (x->n_cands == x->cap_cands) {
        int cap = x->cap_cands ? 2 * x->cap_cands : 32;
        oct_cle_cand *p = realloc(x->cands, (size_t)cap * sizeof *p);
        if (!p) return nomem(x);
        x->cands = p;
        x->cap_cands = cap;
    }
    x->cands[x->n_cands++] = c;
    return OCT_OK;
}

/* Every Conv reading value v as its data input: considered, or reported as
 * skipped for skip_reason when it is >= 0. */
static oct_status each_conv_reader(oct_cle_ctx *x, int n1, int act, int v, int skip_reason,
                                   const char *detail) {
    for (int i = x->cons_off[v]; i < x->cons_off[v + 1]; i++) {
        int n2 = x->cons[i];
        if (!is_op(&x->g->nodes[n2], "Conv") || x->g->nodes[n2].in[0] != v) continue;
        OCT_TRY(skip_reason < 0 ? consider(x, n1, act, n2)
                                : skip(x, n1, n2, (oct_cle_skip_reason)skip_reason, detail));
    }
    return OCT_OK;
}

/* Mul(v, Sigmoid(v)) in either order. */
static int is_silu(const oct_graph *g, const oct_node *n, int v) {
    if (!is_op(n, "Mul") || n->n_in != 2 || (n->in[0] != v && n->in[1] != v)) return 0;
    int o = n->in[0] == v ? n->in[1] : n->in[0];
    int p = o >= 0 ? g->values[o].producer : -1;
    return p >= 0 && is_op(&g->nodes[p], "Sigmoid") && g->nodes[p].in[0] == v;
}

static oct_status index_readers(oct_cle_ctx *x) {
    const oct_graph *g = x->g;
    x->use = oct_graph_use_counts(g);
    x->cons_off = calloc((size_t)g->n_values + 2, sizeof *x->cons_off);
    x->conv_of_node = malloc(((size_t)g->n_nodes + 1) * sizeof *x->conv_of_node);
    if (!x->use || !x->cons_off || !x->conv_of_node) return nomem(x);
    for (int v = 0; v < g->n_values; v++)
        x->cons_off[v + 1] = x->cons_off[v] + x->use[v];
    x->cons = malloc(((size_t)x->cons_off[g->n_values] + 1) * sizeof *x->cons);
    int *fill = calloc((size_t)g->n_values + 1, sizeof *fill);
    if (!x->cons || !fill) {
        free(fill);
        return nomem(x);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        x->conv_of_node[i] = -1;
        if (g->nodes[i].dead) continue;
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            /* a node reading v twice is one reader */
            if (v >= 0 && (!fill[v] || x->cons[x->cons_off[v] + fill[v] - 1] != i))
                x->cons[x->cons_off[v] + fill[v]++] = i;
        }
    }
    for (int v = 0; v < g->n_values; v++)
        x->cons_off[v + 1] = x->cons_off[v] + fill[v];
    free(fill);
    return OCT_OK;
}

oct_status oct_cle_find_pairs(oct_cle_ctx *x) {
    const oct_graph *g = x->g;
    OCT_TRY(index_readers(x));
    for (int n1 = 0; n1 < g->n_nodes; n1++) {
        const oct_node *c1 = &g->nodes[n1];
        int v1 = c1->n_out > 0 ? c1->out[0] : -1;
        if (!is_op(c1, "Conv") || v1 < 0) continue;
        for (int i = x->cons_off[v1]; i < x->cons_off[v1 + 1]; i++) {
            int a = x->cons[i];
            const oct_node *an = &g->nodes[a];
            int out = an->n_out > 0 ? an->out[0] : -1;
            if (is_op(an, "Conv") && an->in[0] == v1) OCT_TRY(consider(x, n1, -1, a));
            if (out < 0) continue;
            if (homogeneous(an) && an->in[0] == v1)
                OCT_TRY(each_conv_reader(x, n1, a, out, -1, NULL));
            if (other_activation(an) && an->in[0] == v1)
                OCT_TRY(each_conv_reader(x, n1, a, out, OCT_CLE_SKIP_ACTIVATION, an->op_type));
            if (is_silu(g, an, v1))
                OCT_TRY(each_conv_reader(x, n1, a, out, OCT_CLE_SKIP_ACTIVATION,
                                         "SiLU: Mul(x, Sigmoid(x))"));
        }
    }
    return OCT_OK;
}

void oct_cle_ctx_free(oct_cle_ctx *x) {
    for (int i = 0; i < x->n_convs; i++) {
        free(x->convs[i].amax);
        free(x->convs[i].sout);
        free(x->convs[i].sin);
    }
    free(x->convs);
    free(x->cands);
    free(x->use);
    free(x->cons_off);
    free(x->cons);
    free(x->conv_of_node);
    memset(x, 0, sizeof *x);
}
