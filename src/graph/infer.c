/* Shape inference and constant folding in one walk over the sorted graph:
 * each node's `infer` sees its inputs' shapes and, for constants, values; a
 * node whose inputs are all constant is evaluated with its reference kernel
 * and its outputs become constants. This is what turns the exporters'
 * Shape->Gather->Unsqueeze->Concat->Reshape chains into plain constants once
 * the input shapes are fixed. */
#include <stdlib.h>
#include <string.h>

#include "graph/passes.h"
#include "ops/op.h"

/* Folding a node whose output is larger than this would trade a little
 * compute for a lot of memory (e.g. Expand of a scalar). */
#define OCT_FOLD_MAX_BYTES ((size_t)16 << 20)

static int is_shape_op(const oct_node *n) {
    return !n->domain[0] && (!strcmp(n->op_type, "Shape") || !strcmp(n->op_type, "Size"));
}

oct_status oct_pass_infer(oct_graph *g, int fold, int strict, oct_error *err) {
    const oct_tensor *ins[4096];
    oct_tensor *outs[4096];
    for (int i = 0; i < g->n_nodes; i++) {
        oct_node *n = &g->nodes[i];
        if (n->dead) continue;
        if (n->n_in > 4096 || n->n_out > 4096)
            return oct_fail(err, OCT_E_UNSUPPORTED, "node '%s' has too many inputs", n->name);
        /* Every slot is cleared: an op that reads out[0] of a node with no
         * outputs must see NULL, never the previous node's tensor. */
        memset(ins, 0, sizeof ins);
        memset(outs, 0, sizeof outs);
        if (n->n_out < 1)
            return oct_fail(err, OCT_E_PARSE, "node '%s' (%s) has no outputs", n->name, n->op_type);
        int known = 1, all_const = 1;
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            ins[k] = v >= 0 ? &g->values[v].t : NULL;
            if (v < 0) continue;
            if (!g->values[v].shape_known) known = 0;
            if (!g->values[v].is_const) all_const = 0;
        }
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            outs[k] = v >= 0 ? &g->values[v].t : NULL;
            if (v >= 0) g->values[v].shape_known = 0;
        }
        n->dynamic = 0;
        if (!n->def) {
            if (strict)
                return oct_fail(err, OCT_E_UNSUPPORTED, "node '%s': unsupported op %s%s%s", n->name,
                                n->domain[0] ? n->domain : "", n->domain[0] ? "::" : "", n->op_type);
            continue;
        }
        if (!known) {
            n->dynamic = 1;
            continue;
        }
        oct_opctx c = {n, n->n_in, ins, n->n_out, outs, n->opset, 1, err};
        oct_status st = n->def->infer(&c);
        if (st == OCT_E_DYNAMIC) {
            n->dynamic = 1;
            continue;
        }
        if (st) return st;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) g->values[n->out[k]].shape_known = 1;

        int foldable = fold && !n->def->no_fold && (all_const || is_shape_op(n));
        for (int k = 0; k < n->n_out && foldable; k++) {
            int v = n->out[k];
            if (v >= 0 && (g->values[v].is_input || oct_nbytes(outs[k]) > OCT_FOLD_MAX_BYTES))
                foldable = 0;
        }
        if (!foldable) continue;
        for (int k = 0; k < n->n_out; k++) {
            if (!outs[k]) continue;
            st = oct_tensor_alloc(outs[k]);
            if (st) return oct_fail(err, st, "node '%s': cannot allocate a folded constant", n->name);
        }
        st = n->def->run(&c);
        if (st) {
            for (int k = 0; k < n->n_out; k++)
                if (outs[k]) oct_tensor_release(outs[k]);
            return st;
        }
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) g->values[n->out[k]].is_const = 1;
        n->dead = 1;
    }
    return OCT_OK;
}
