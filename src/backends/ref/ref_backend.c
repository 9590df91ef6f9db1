/* The reference backend: every op with a definition, on the portable
 * kernels in src/kernels/ref, in plain layout. The oracle and the fallback. */
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "runtime/backend.h"

oct_status oct_exec_prepare_output(oct_tensor *t, int zero);

static oct_status ref_run(oct_kernel *k, oct_exec *x, oct_error *err) {
    oct_graph *g = x->g;
    oct_node *n = &g->nodes[k->node];
    const oct_tensor *in[OCT_KERNEL_MAX_IN] = {0};
    oct_tensor *out[OCT_KERNEL_MAX_OUT] = {0};
    for (int i = 0; i < n->n_in; i++) in[i] = k->in_values[i] >= 0 ? &g->values[k->in_values[i]].t : NULL;
    for (int i = 0; i < n->n_out; i++) out[i] = k->out_values[i] >= 0 ? &g->values[k->out_values[i]].t : NULL;
    oct_opctx c = {n, n->n_in, in, n->n_out, out, n->opset, x->threads, err};
    oct_status st = OCT_OK;
    if (n->dynamic) {
        st = n->def->infer(&c);
        if (st == OCT_E_DYNAMIC)
            st = oct_fail(err, OCT_E_SHAPE, "node '%s' (%s): cannot infer its output shape", n->name, n->op_type);
    }
    for (int i = 0; !st && i < n->n_out; i++) {
        if (!out[i]) continue;
        st = oct_exec_prepare_output(out[i], 1);
        if (st) {
            char a[128];
            st = oct_fail(err, st, "node '%s' (%s): cannot allocate output %d of shape %s", n->name, n->op_type, i,
                          oct_shape_str(out[i]->ndim, out[i]->dims, a, sizeof a));
        }
    }
    if (!st) st = n->def->run(&c);
    return st;
}

static void ref_destroy(oct_kernel *k) { free(k); }

static oct_status ref_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    oct_node *n = &x->g->nodes[node];
    *out = NULL;
    if (!n->def) return OCT_OK;
    if (n->n_in > OCT_KERNEL_MAX_IN || n->n_out > OCT_KERNEL_MAX_OUT)
        return oct_fail(err, OCT_E_UNSUPPORTED, "node '%s' (%s): %d inputs and %d outputs (at most %d and %d)",
                        n->name, n->op_type, n->n_in, n->n_out, OCT_KERNEL_MAX_IN, OCT_KERNEL_MAX_OUT);
    oct_kernel *k = calloc(1, sizeof *k);
    if (!k) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    k->impl = "ref";
    k->node = node;
    k->n_in = n->n_in;
    k->n_out = n->n_out;
    for (int i = 0; i < k->n_in; i++) {
        k->in_values[i] = n->in[i];
        k->in_accept[i] = OCT_ACCEPT_PLAIN;
    }
    for (int i = 0; i < k->n_out; i++) {
        k->out_values[i] = n->out[i];
        k->out_layout[i] = OCT_LAYOUT_PLAIN;
    }
    k->zero_outputs = 1;
    k->run = ref_run;
    k->destroy = ref_destroy;
    *out = k;
    return OCT_OK;
}

const oct_backend oct_backend_ref = {"ref", ref_create, NULL, NULL};
