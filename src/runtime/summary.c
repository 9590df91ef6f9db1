/* oct_model_summarize: what `octet info` prints. */
#include <stdlib.h>
#include <string.h>

#include "graph/passes.h"
#include "runtime/runtime.h"

/* FLOPs of one node with known shapes; a multiply-add counts 2. */
double oct_node_flops(const oct_graph *g, const oct_node *n) {
    if (n->n_out < 1 || n->out[0] < 0) return 0;
    const oct_value *y = &g->values[n->out[0]];
    if (!y->shape_known) return 0;
    double out = (double)oct_numel(&y->t);
    const oct_value *w = n->n_in > 1 && n->in[1] >= 0 ? &g->values[n->in[1]] : NULL;
    const oct_value *x = n->n_in > 0 && n->in[0] >= 0 ? &g->values[n->in[0]] : NULL;
    if (!strcmp(n->op_type, "Conv") && w && w->shape_known && w->t.ndim >= 3) {
        double k = (double)oct_numel(&w->t) / (double)w->t.dims[0]; /* (C/g) * kernel */
        return 2.0 * out * k;
    }
    if (!strcmp(n->op_type, "ConvTranspose") && w && x && w->shape_known && x->shape_known && w->t.ndim >= 3) {
        /* every input element scatters into (OC/g) * kernel outputs */
        double k = (double)oct_numel(&w->t) / (double)w->t.dims[0];
        return 2.0 * (double)oct_numel(&x->t) * k;
    }
    if ((!strcmp(n->op_type, "MatMul") || !strcmp(n->op_type, "Gemm")) && x && x->shape_known &&
        x->t.ndim >= 1) {
        double kdim = (double)x->t.dims[x->t.ndim - 1];
        if (!strcmp(n->op_type, "Gemm") && oct_attr_int(n, "transA", 0) && x->t.ndim == 2) kdim = (double)x->t.dims[0];
        return 2.0 * out * kdim;
    }
    return out;
}

static int cmp_count(const void *a, const void *b) {
    const oct_op_count *x = a, *y = b;
    if (x->count != y->count) return y->count - x->count;
    return strcmp(x->op_type, y->op_type);
}

oct_status oct_model_summarize(const oct_model *m, int n_shapes, const oct_input_shape *shapes,
                               oct_model_summary *out, oct_error *err) {
    if (!m || !out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_model_summarize: NULL argument");
    memset(out, 0, sizeof *out);
    const oct_graph *og = m->g;
    out->n_nodes_original = og->n_nodes;
    out->ops = calloc((size_t)og->n_nodes + 1, sizeof *out->ops);
    if (!out->ops) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    for (int i = 0; i < og->n_nodes; i++) {
        const oct_node *n = &og->nodes[i];
        int j = 0;
        for (; j < out->n_ops; j++)
            if (!strcmp(out->ops[j].op_type, n->op_type)) break;
        if (j == out->n_ops) {
            out->ops[j].op_type = n->op_type;
            out->ops[j].supported = n->def != NULL;
            if (!n->def) out->n_unsupported++;
            out->n_ops++;
        }
        out->ops[j].count++;
    }
    qsort(out->ops, (size_t)out->n_ops, sizeof *out->ops, cmp_count);
    for (int v = 0; v < og->n_values; v++) {
        const oct_value *val = &og->values[v];
        if (val->is_const && oct_dtype_is_float(val->t.dtype)) out->n_params += oct_numel(&val->t);
    }
    oct_session_options o;
    oct_session_options_init(&o);
    o.n_shapes = n_shapes;
    o.shapes = shapes;
    oct_graph *g = NULL;
    oct_status st = oct_session_prepare_graph(m, &o, 1, &g, err);
    if (st) {
        out->n_nodes = og->n_nodes;
        return st;
    }
    out->n_nodes = g->n_nodes;
    for (int i = 0; i < g->n_nodes; i++) out->flops += oct_node_flops(g, &g->nodes[i]);
    oct_graph_free(g);
    return OCT_OK;
}

void oct_model_summary_free(oct_model_summary *s) {
    if (!s) return;
    free(s->ops);
    memset(s, 0, sizeof *s);
}
