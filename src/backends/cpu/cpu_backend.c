/* The threaded CPU backend: octet's own kernels for the ops oneDNN does not
 * cover, parallel over the session's pool, layout-aware where it pays. */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernels.h"
#include "runtime/exec.h"

static oct_status cpu_create(oct_exec *x, int node, oct_kernel **k, oct_error *err) {
    *k = NULL;
    const oct_node *n = &x->g->nodes[node];
    if (n->dynamic) return OCT_OK;
    /* an entry names its op and its domain: com.microsoft's Gelu is not
     * ONNX's, and a default-domain kernel must never see it */
    for (size_t i = 0; oct_cpu_ops[i].op_type; i++) {
        const char *dom = oct_cpu_ops[i].domain ? oct_cpu_ops[i].domain : "";
        if (!strcmp(oct_cpu_ops[i].op_type, n->op_type) && !strcmp(dom, n->domain))
            return oct_cpu_ops[i].create(x, node, k, err);
    }
    return OCT_OK;
}

const oct_backend oct_backend_cpu = {"cpu", cpu_create, NULL, NULL};
