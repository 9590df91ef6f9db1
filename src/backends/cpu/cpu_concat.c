/* Concat and Split as block copies, threaded over the outer index. Both
 * see a tensor as [outer, axis * inner]: in plain layout along any axis, in
 * channels-last along the channel axis (outer = N*H*W, inner = 1). */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernels.h"
#include "runtime/exec.h"

typedef struct {
    oct_kernel base;
    int split;          /* 0: Concat, 1: Split */
    int parts;
    int64_t outer;
    int64_t bytes[OCT_KERNEL_MAX_IN]; /* contiguous bytes per part per outer index */
    int64_t total;      /* bytes per outer index of the whole */
} cat_kernel;

typedef struct {
    cat_kernel *k;
    oct_exec *x;
} cat_job;

static void cat_rows(void *ctx, int64_t b, int64_t e) {
    cat_job *j = ctx;
    cat_kernel *k = j->k;
    oct_graph *g = j->x->g;
    const int *parts = k->split ? k->base.out_values : k->base.in_values;
    char *whole = k->split ? g->values[k->base.in_values[0]].t.data : g->values[k->base.out_values[0]].t.data;
    for (int64_t o = b; o < e; o++) {
        int64_t off = o * k->total;
        for (int p = 0; p < k->parts; p++) {
            char *part = (char *)g->values[parts[p]].t.data + o * k->bytes[p];
            if (k->split) memcpy(part, whole + off, (size_t)k->bytes[p]);
            else memcpy(whole + off, part, (size_t)k->bytes[p]);
            off += k->bytes[p];
        }
    }
}

static oct_status cat_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    (void)err;
    cat_kernel *k = (cat_kernel *)kb;
    for (int o = 0; o < kb->n_out; o++) OCT_TRY(oct_exec_prepare_output(oct_exec_tensor(x, kb->out_values[o]), 0));
    cat_job j = {k, x};
    oct_parallel_for(x->pool, k->outer, 1 + 65536 / (k->total ? k->total : 1), cat_rows, &j);
    return OCT_OK;
}

static void cat_destroy(oct_kernel *k) { free(k); }

oct_status oct_cpu_concat_create(oct_exec *x, int node, oct_kernel **out, oct_error *err);
oct_status oct_cpu_concat_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    int split = !strcmp(n->op_type, "Split");
    if (split ? (n->n_in < 1 || n->n_out < 1) : (n->n_in < 1 || n->n_out != 1)) return OCT_OK;
    int whole_v = split ? n->in[0] : n->out[0];
    if (whole_v < 0) return OCT_OK;
    const oct_tensor *w = &g->values[whole_v].t;
    int r = w->ndim;
    int64_t axis = oct_attr_int(n, "axis", split ? 0 : 1);
    if (axis < 0) axis += r;
    if (r == 0 || axis < 0 || axis >= r) return OCT_OK;
    int nparts = split ? n->n_out : n->n_in;
    if (nparts > OCT_KERNEL_MAX_IN || nparts > OCT_KERNEL_MAX_OUT * (split ? 1 : 4)) return OCT_OK;
    if (split && nparts > OCT_KERNEL_MAX_OUT) return OCT_OK;
    /* channels-last when the whole (Split) or every part (Concat) already is */
    int nhwc = r == 4 && axis == 1;
    if (split) nhwc = nhwc && x->layout[whole_v] == OCT_LAYOUT_NHWC;
    for (int p = 0; p < nparts && !split; p++) {
        int v = n->in[p];
        if (v < 0) return OCT_OK;
        if (x->layout[v] != OCT_LAYOUT_NHWC) nhwc = 0;
    }
    cat_kernel *k = calloc(1, sizeof *k);
    if (!k) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    size_t es = oct_dtype_size(w->dtype);
    int64_t outer = 1, inner = 1;
    if (nhwc) {
        outer = w->dims[0] * w->dims[2] * w->dims[3];
    } else {
        for (int i = 0; i < axis; i++) outer *= w->dims[i];
        for (int i = (int)axis + 1; i < r; i++) inner *= w->dims[i];
    }
    int64_t sum = 0;
    for (int p = 0; p < nparts; p++) {
        int v = split ? n->out[p] : n->in[p];
        if (v < 0) goto decline;
        const oct_tensor *t = &g->values[v].t;
        if (t->dtype != w->dtype || t->ndim != r) goto decline;
        k->bytes[p] = t->dims[axis] * inner * (int64_t)es;
        sum += t->dims[axis];
    }
    if (sum != w->dims[axis] || !es) goto decline;
    k->split = split;
    k->parts = nparts;
    k->outer = outer;
    k->total = w->dims[axis] * inner * (int64_t)es;
    k->base.impl = nhwc ? "cpu:concat-nhwc" : "cpu:concat";
    k->base.node = node;
    unsigned acc = nhwc ? OCT_ACCEPT_NHWC : OCT_ACCEPT_PLAIN;
    oct_layout lay = nhwc ? OCT_LAYOUT_NHWC : OCT_LAYOUT_PLAIN;
    if (split) {
        k->base.n_in = 1;
        k->base.in_values[0] = n->in[0];
        k->base.in_accept[0] = acc;
        k->base.n_out = nparts;
        for (int p = 0; p < nparts; p++) {
            k->base.out_values[p] = n->out[p];
            k->base.out_layout[p] = lay;
        }
    } else {
        k->base.n_in = nparts;
        for (int p = 0; p < nparts; p++) {
            k->base.in_values[p] = n->in[p];
            k->base.in_accept[p] = acc;
        }
        k->base.n_out = 1;
        k->base.out_values[0] = n->out[0];
        k->base.out_layout[0] = lay;
    }
    k->base.run = cat_run;
    k->base.destroy = cat_destroy;
    *out = &k->base;
    return OCT_OK;
decline:
    free(k);
    return OCT_OK;
}
