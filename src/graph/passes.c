/* Structural passes: dead-node removal, Identity bypass, BatchNormalization
 * folded into Conv and ConvTranspose. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/passes.h"

int oct_pass_dead_nodes(oct_graph *g) {
    int removed = 0, changed = 1;
    while (changed) {
        changed = 0;
        int *uses = oct_graph_use_counts(g);
        if (!uses) return removed;
        for (int i = g->n_nodes - 1; i >= 0; i--) {
            oct_node *n = &g->nodes[i];
            if (n->dead) continue;
            int live = 0;
            for (int k = 0; k < n->n_out; k++) {
                int v = n->out[k];
                if (v >= 0 && (uses[v] || g->values[v].is_output)) live = 1;
            }
            if (!live) {
                n->dead = 1;
                for (int k = 0; k < n->n_in; k++)
                    if (n->in[k] >= 0) uses[n->in[k]]--;
                removed++;
                changed = 1;
            }
        }
        free(uses);
    }
    return removed;
}

static void replace_uses(oct_graph *g, int from, int to) {
    for (int i = 0; i < g->n_nodes; i++) {
        oct_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == from) n->in[k] = to;
    }
}

int oct_pass_identity(oct_graph *g) {
    int removed = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        oct_node *n = &g->nodes[i];
        if (n->dead || n->domain[0]) continue;
        int is_id = !strcmp(n->op_type, "Identity");
        /* Dropout at inference is Identity when only its first output is used. */
        if (!strcmp(n->op_type, "Dropout") && (n->n_out < 2 || n->out[1] < 0) && n->n_in >= 1)
            is_id = 1;
        if (!is_id || n->n_in < 1 || n->in[0] < 0 || n->n_out < 1 || n->out[0] < 0) continue;
        int x = n->in[0], y = n->out[0];
        if (g->values[y].is_output) continue; /* the output keeps its name */
        replace_uses(g, y, x);
        n->dead = 1;
        removed++;
    }
    return removed;
}

static int single_consumer(const oct_graph *g, int v, int *consumer) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const oct_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == v) {
                count++;
                *consumer = i;
            }
    }
    return count == 1;
}

static int const_float(const oct_graph *g, int v, int64_t n) {
    return v >= 0 && g->values[v].is_const && g->values[v].t.dtype == OCT_FLOAT &&
           oct_numel(&g->values[v].t) == n;
}

int oct_pass_fold_batchnorm(oct_graph *g, oct_error *err) {
    (void)err;
    int folded = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        oct_node *bn = &g->nodes[i];
        if (bn->dead || bn->domain[0] || strcmp(bn->op_type, "BatchNormalization") || bn->n_in < 5)
            continue;
        if (bn->n_out > 1) {
            int extra = 0;
            for (int k = 1; k < bn->n_out; k++) extra |= bn->out[k] >= 0;
            if (extra) continue;
        }
        int x = bn->in[0];
        if (x < 0 || g->values[x].producer < 0 || g->values[x].is_output) continue;
        int ci = g->values[x].producer, consumer = -1;
        oct_node *conv = &g->nodes[ci];
        /* ConvTranspose (group 1) keeps its output channels on weight axis 1 */
        int transposed = !strcmp(conv->op_type, "ConvTranspose");
        if (conv->dead || conv->domain[0] || (strcmp(conv->op_type, "Conv") && !transposed) || conv->n_in < 2)
            continue;
        if (transposed && oct_attr_int(conv, "group", 1) != 1) continue;
        if (!single_consumer(g, x, &consumer) || consumer != i) continue;
        int w = conv->in[1], b = conv->n_in > 2 ? conv->in[2] : -1;
        if (w < 0 || !g->values[w].is_const || g->values[w].t.dtype != OCT_FLOAT) continue;
        const oct_tensor *wt = &g->values[w].t;
        if (wt->ndim < 3) continue;
        int64_t outer = transposed ? wt->dims[0] : 1, oc = transposed ? wt->dims[1] : wt->dims[0];
        int64_t per = oct_numel(wt) / ((oc ? oc : 1) * (outer ? outer : 1));
        if (b >= 0 && !const_float(g, b, oc)) continue;
        if (!const_float(g, bn->in[1], oc) || !const_float(g, bn->in[2], oc) ||
            !const_float(g, bn->in[3], oc) || !const_float(g, bn->in[4], oc))
            continue;
        float eps = oct_attr_float(bn, "epsilon", 1e-5f);
        const float *gam = g->values[bn->in[1]].t.data, *bet = g->values[bn->in[2]].t.data;
        const float *mean = g->values[bn->in[3]].t.data, *var = g->values[bn->in[4]].t.data;

        int nw = oct_graph_new_value(g, g->values[w].name);
        int nb = nw >= 0 ? oct_graph_new_value(g, g->values[bn->in[2]].name) : -1;
        if (nb < 0) return folded;
        wt = &g->values[w].t; /* values may have moved */
        oct_value *vw = &g->values[nw], *vb = &g->values[nb];
        oct_tensor_set_shape(&vw->t, OCT_FLOAT, wt->ndim, wt->dims);
        int64_t one = oc;
        oct_tensor_set_shape(&vb->t, OCT_FLOAT, 1, &one);
        if (oct_tensor_alloc(&vw->t) || oct_tensor_alloc(&vb->t)) return folded;
        vw->is_const = vb->is_const = 1;
        vw->shape_known = vb->shape_known = 1;
        const float *src = wt->data;
        const float *bias = b >= 0 ? g->values[b].t.data : NULL;
        float *dw = vw->t.data, *db = vb->t.data;
        for (int64_t o = 0; o < oc; o++) {
            /* Same arithmetic order as ONNX Runtime's fusion keeps results
             * within float rounding of the unfused graph. */
            float s = gam[o] / sqrtf(var[o] + eps);
            for (int64_t u = 0; u < outer; u++)
                for (int64_t k = 0; k < per; k++) dw[(u * oc + o) * per + k] = src[(u * oc + o) * per + k] * s;
            db[o] = ((bias ? bias[o] : 0.0f) - mean[o]) * s + bet[o];
        }
        conv = &g->nodes[ci];
        bn = &g->nodes[i];
        if (conv->n_in < 3) {
            int *ni = realloc(conv->in, sizeof(int) * 3);
            if (!ni) return folded;
            conv->in = ni;
            conv->n_in = 3;
        }
        conv->in[1] = nw;
        conv->in[2] = nb;
        conv->out[0] = bn->out[0];
        g->values[bn->out[0]].producer = ci;
        bn->dead = 1;
        folded++;
    }
    return folded;
}

/* Conv or ConvTranspose followed by Add of a per-channel constant ([1,C,1,1]
 * or [C,1,1], as exporters write a bias they split off) becomes the bias. */
int oct_pass_fold_conv_add(oct_graph *g) {
    int folded = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        oct_node *add = &g->nodes[i];
        if (add->dead || add->domain[0] || strcmp(add->op_type, "Add") || add->n_in != 2) continue;
        for (int side = 0; side < 2; side++) {
            int x = add->in[side], c = add->in[1 - side];
            if (x < 0 || c < 0 || g->values[x].producer < 0 || g->values[x].is_output) continue;
            int ci = g->values[x].producer, consumer = -1;
            oct_node *conv = &g->nodes[ci];
            int transposed = !strcmp(conv->op_type, "ConvTranspose");
            if (conv->dead || conv->domain[0] || (strcmp(conv->op_type, "Conv") && !transposed) || conv->n_in < 2)
                continue;
            if (!single_consumer(g, x, &consumer) || consumer != i) continue;
            int w = conv->in[1], b = conv->n_in > 2 ? conv->in[2] : -1;
            if (w < 0 || !g->values[w].is_const || g->values[w].t.dtype != OCT_FLOAT) continue;
            const oct_tensor *wt = &g->values[w].t, *ct = &g->values[c].t;
            if (wt->ndim < 3 || !g->values[c].is_const || ct->dtype != OCT_FLOAT) continue;
            int64_t oc = transposed ? wt->dims[1] * oct_attr_int(conv, "group", 1) : wt->dims[0];
            /* per-channel: rank <= output rank, the channel axis is the only
             * non-1 axis and it sits at position 1 of the output */
            int r = wt->ndim, ok = ct->ndim >= r - 1 && ct->ndim <= r && oct_numel(ct) == oc;
            for (int k = 0; ok && k < ct->ndim; k++) {
                int axis = k + (r - ct->ndim); /* aligned to the output's axes */
                if (ct->dims[k] != (axis == 1 ? oc : 1)) ok = 0;
            }
            if (!ok || (b >= 0 && !const_float(g, b, oc))) continue;
            int nb = oct_graph_new_value(g, g->values[c].name);
            if (nb < 0) return folded;
            oct_value *vb = &g->values[nb];
            oct_tensor_set_shape(&vb->t, OCT_FLOAT, 1, &oc);
            if (oct_tensor_alloc(&vb->t)) return folded;
            vb->is_const = vb->shape_known = 1;
            float *db = vb->t.data;
            const float *add_c = g->values[c].t.data, *old = b >= 0 ? g->values[b].t.data : NULL;
            for (int64_t o = 0; o < oc; o++) db[o] = (old ? old[o] : 0.0f) + add_c[o];
            conv = &g->nodes[ci];
            add = &g->nodes[i];
            if (conv->n_in < 3) {
                int *ni = realloc(conv->in, sizeof(int) * 3);
                if (!ni) return folded;
                conv->in = ni;
                conv->n_in = 3;
            }
            conv->in[2] = nb;
            conv->out[0] = add->out[0];
            g->values[add->out[0]].producer = ci;
            add->dead = 1;
            folded++;
            break;
        }
    }
    return folded;
}

oct_status oct_graph_optimize(oct_graph *g, int fold, oct_error *err) {
    OCT_TRY(oct_graph_toposort(g, err));
    OCT_TRY(oct_pass_infer(g, fold, 0, err));
    if (fold) {
        oct_pass_identity(g);
        /* bias Adds first, so a BatchNormalization after Conv+Add folds too */
        oct_pass_fold_conv_add(g);
        oct_pass_fold_batchnorm(g, err);
        oct_pass_fold_conv_add(g);
        oct_pass_dead_nodes(g);
    }
    oct_graph_compact(g);
    return OCT_OK;
}
