/* The threaded CPU backend: octet's own kernels for the ops oneDNN does not
 * cover, parallel over the session's pool, layout-aware where it pays. */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernels.h"
#include "runtime/exec.h"

static oct_status cpu_create(oct_exec *x, int node, oct_kernel **k, oct_error *err) {
    *k = NULL;
    const oct_node *n = &x->g->nodes[node];
    if (n->dynamic || n->domain[0]) return OCT_OK;
    for (size_t i = 0; oct_cpu_ops[i].op_type; i++)
        if (!strcmp(oct_cpu_ops[i].op_type, n->op_type)) return oct_cpu_ops[i].create(x, node, k, err);
    return OCT_OK;
}

const oct_backend oct_backend_cpu = {"cpu", cpu_create, NULL, NULL};
