/* The layers AdaRound and bias correction work on: which plan nodes qualify,
 * their weights as rows, scales, biases and topological levels. */
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "quant/plan.h"
#include "quant/ptq_driver.h"
#include "quant/weights.h"
#include "runtime/runtime.h"

static int find_node(const oct_graph *g, const char *name) {
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead && g->nodes[i].name && !strcmp(g->nodes[i].name, name)) return i;
    return -1;
}

static int skip(ptq_layer *L, const char *why) {
    free(L->log.skipped);
    L->log.skipped = strdup(why);
    L->active = 0;
    return 0;
}

/* The model's bias of the layer: its own input (Conv, Gemm), or for a MatMul
 * the constant of the Add that follows it. */
static void find_bias(const oct_graph *mg, int mn, ptq_layer *L) {
    const oct_node *n = &mg->nodes[mn];
    int ismm = !strcmp(n->op_type, "MatMul");
    if (!ismm) {
        L->bias_node = strdup(n->name);
        if (n->n_in > 2 && n->in[2] >= 0 && mg->values[n->in[2]].is_const) {
            const oct_tensor *b = &mg->values[n->in[2]].t;
            if (b->dtype == OCT_FLOAT && oct_numel(b) == L->q.G * L->q.R)
                L->bias = (const float *)b->data;
        }
        return;
    }
    int y = n->out[0], cons = -1, uses = 0;
    for (int i = 0; i < mg->n_nodes; i++) {
        const oct_node *c = &mg->nodes[i];
        for (int k = 0; k < c->n_in; k++)
            if (c->in[k] == y) uses++, cons = i;
    }
    if (uses != 1 || strcmp(mg->nodes[cons].op_type, "Add")) return;
    const oct_node *a = &mg->nodes[cons];
    for (int k = 0; k < 2 && k < a->n_in; k++) {
        int v = a->in[k];
        if (v < 0 || v == y || !mg->values[v].is_const) continue;
        const oct_tensor *b = &mg->values[v].t;
        if (b->dtype == OCT_FLOAT && oct_numel(b) == L->q.R && b->dims[b->ndim - 1] == L->q.R) {
            L->bias = (const float *)b->data;
            L->bias_tensor = strdup(mg->values[v].name);
        }
    }
}

/* Per-row scales of the plan's weight quantizer (quant/weights.h). */
static oct_status row_scales(const oct_node *n, const oct_tensor *w, const oct_plan *plan,
                             ptq_layer *L, oct_error *err) {
    int rows = L->q.G * L->q.R;
    int axis = oct_weight_channel_axis(n->op_type, w->ndim, oct_attr_int(n, "group", 1),
                                       oct_attr_int(n, "transB", 0), plan->weights);
    size_t ns = oct_weight_n_scales(w->ndim, w->dims, axis);
    float *s = malloc(sizeof(float) * (ns ? ns : 1));
    L->scale = malloc(sizeof(float) * (size_t)rows);
    if (!s || !L->scale) {
        free(s);
        return oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    oct_status st = oct_weight_quantize_bits(w->data, w->ndim, w->dims, axis,
                                             oct_plan_weight_bits(plan), NULL, s, err);
    if (!st)
        for (int r = 0; r < rows; r++)
            L->scale[r] = ns == (size_t)rows ? s[r] : s[0];
    free(s);
    return st;
}

static oct_status setup_one(ptq_ctx *c, const oct_plan_node *pn, ptq_layer *L, oct_error *err) {
    L->log.node = strdup(pn->name);
    L->log.op_type = strdup(pn->op_type ? pn->op_type : "");
    L->active = 1;
    if (!L->log.node || !L->log.op_type) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    const oct_graph *g = c->fp->g, *mg = c->m0->g;
    int sn = find_node(g, pn->name), mn = find_node(mg, pn->name);
    if (sn < 0 || mn < 0) return skip(L, "not in the optimised graph (fused away)"), OCT_OK;
    const oct_node *n = &g->nodes[sn], *mnode = &mg->nodes[mn];
    oct_error e = {0};
    if (ptq_geom_get(g, sn, &L->q, &e)) return skip(L, e.message), OCT_OK;
    /* The weight the session runs must be the model's initializer: the
     * optimised weights are written back to the model by that name. */
    if (mnode->n_in < 2 || mnode->in[1] < 0 || !mg->values[mnode->in[1]].is_const)
        return skip(L, "its weight is not an initializer of the model"), OCT_OK;
    const oct_tensor *w = &g->values[n->in[1]].t, *mw = &mg->values[mnode->in[1]].t;
    if (mw->dtype != OCT_FLOAT || oct_numel(mw) != oct_numel(w) || !mw->data ||
        memcmp(mw->data, w->data, oct_nbytes(w)))
        return skip(L, "graph optimisation rewrote its weight"), OCT_OK;
    L->w_name = strdup(mg->values[mnode->in[1]].name);
    L->x_name = strdup(g->values[n->in[0]].name);
    L->wlay = !strcmp(n->op_type, "ConvTranspose") ? PTQ_W_DECONV
              : (!strcmp(n->op_type, "MatMul") ||
                 (!strcmp(n->op_type, "Gemm") && !oct_attr_int(n, "transB", 0)))
                  ? PTQ_W_KN
                  : PTQ_W_ROWS;
    L->w_numel = (size_t)oct_numel(w);
    int rows = L->q.G * L->q.R;
    L->log.rows = rows;
    L->log.k = L->q.K;
    L->log.groups = L->q.G;
    L->w = malloc(sizeof(float) * L->w_numel);
    if (!L->w || !L->x_name || !L->w_name) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    ptq_weight_to_rows(L->wlay, &L->q, w->data, L->w);
    OCT_TRY(row_scales(n, w, c->plan, L, err));
    find_bias(mg, mn, L);
    /* columns per image: the positions of one run, sampled when many */
    int64_t want = (c->opt.columns + c->n_images - 1) / c->n_images;
    L->per_img = (int)(L->q.positions < want ? L->q.positions : want);
    L->M = L->per_img * c->n_images;
    L->log.columns = L->M;
    return OCT_OK;
}

/* Level of a layer: how many layers lie on the longest path above it, so
 * that the layers of one level never feed each other. */
static oct_status levels(ptq_ctx *c, oct_error *err) {
    const oct_graph *g = c->fp->g;
    int *lv = calloc((size_t)g->n_values + 1, sizeof *lv);
    if (!lv) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    c->n_levels = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const oct_node *n = &g->nodes[i];
        if (n->dead) continue;
        int in = 0;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && lv[n->in[k]] > in) in = lv[n->in[k]];
        int out = in;
        for (int l = 0; l < c->n_layers; l++) {
            ptq_layer *L = &c->layers[l];
            if (!L->active || strcmp(L->log.node, n->name)) continue;
            L->log.level = in;
            out = in + 1;
            if (in + 1 > c->n_levels) c->n_levels = in + 1;
        }
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) lv[n->out[k]] = out;
    }
    free(lv);
    return OCT_OK;
}

oct_status ptq_layers_setup(ptq_ctx *c, oct_error *err) {
    const oct_plan *p = c->plan;
    c->layers = calloc((size_t)p->n_nodes + 1, sizeof *c->layers);
    if (!c->layers) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    for (int i = 0; i < p->n_nodes; i++) {
        const oct_plan_node *pn = &p->nodes[i];
        if (pn->precision != OCT_PREC_INT8 || oct_weight_input(pn->op_type) < 0) continue;
        OCT_TRY(setup_one(c, pn, &c->layers[c->n_layers++], err));
    }
    return levels(c, err);
}

void ptq_layers_free(ptq_ctx *c) {
    for (int l = 0; l < c->n_layers; l++) {
        ptq_layer *L = &c->layers[l];
        free(L->w_name);
        free(L->x_name);
        free(L->bias_node);
        free(L->bias_tensor);
        free(L->w);
        free(L->scale);
        free(L->y);
        free(L->x);
        free(L->sums);
        free(L->log.node);
        free(L->log.op_type);
        free(L->log.skipped);
    }
    free(c->layers);
    c->layers = NULL;
    c->n_layers = 0;
}
