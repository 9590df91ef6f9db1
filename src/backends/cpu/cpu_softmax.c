/* Softmax on float32 in plain layout, threaded: the tensor is seen as
 * [outer, n, inner] around the axis (opset 13+) or [outer, n] (older opsets
 * coerce to 2-D); each task takes a block of inner columns of one outer
 * index, so the loops over inner are contiguous and vectorise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernels.h"
#include "runtime/exec.h"

#define SM_BLOCK 256

typedef struct {
    oct_kernel base;
    int64_t outer, n, inner;
} sm_kernel;

typedef struct {
    sm_kernel *k;
    const float *x;
    float *y;
} sm_job;

static void sm_tasks(void *ctx, int64_t b, int64_t e) {
    sm_job *j = ctx;
    const sm_kernel *k = j->k;
    int64_t blocks = (k->inner + SM_BLOCK - 1) / SM_BLOCK;
    float mx[SM_BLOCK], sum[SM_BLOCK];
    for (int64_t t = b; t < e; t++) {
        int64_t o = t / blocks, i0 = (t % blocks) * SM_BLOCK;
        int64_t w = k->inner - i0 < SM_BLOCK ? k->inner - i0 : SM_BLOCK;
        const float *x = j->x + o * k->n * k->inner + i0;
        float *y = j->y + o * k->n * k->inner + i0;
        for (int64_t i = 0; i < w; i++) {
            mx[i] = x[i];
            sum[i] = 0;
        }
        for (int64_t r = 1; r < k->n; r++)
            for (int64_t i = 0; i < w; i++) {
                float v = x[r * k->inner + i];
                mx[i] = v > mx[i] ? v : mx[i];
            }
        for (int64_t r = 0; r < k->n; r++)
            for (int64_t i = 0; i < w; i++) {
                float v = expf(x[r * k->inner + i] - mx[i]);
                y[r * k->inner + i] = v;
                sum[i] += v;
            }
        for (int64_t r = 0; r < k->n; r++)
            for (int64_t i = 0; i < w; i++) y[r * k->inner + i] /= sum[i];
    }
}

static oct_status sm_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    (void)err;
    sm_kernel *k = (sm_kernel *)kb;
    oct_tensor *y = oct_exec_tensor(x, kb->out_values[0]);
    OCT_TRY(oct_exec_prepare_output(y, 0));
    sm_job j = {k, oct_exec_tensor(x, kb->in_values[0])->data, y->data};
    int64_t tasks = k->outer * ((k->inner + SM_BLOCK - 1) / SM_BLOCK);
    oct_parallel_for(x->pool, tasks, 1 + 16384 / (k->n * SM_BLOCK + 1), sm_tasks, &j);
    return OCT_OK;
}

static void sm_destroy(oct_kernel *k) { free(k); }

oct_status oct_cpu_softmax_create(oct_exec *x, int node, oct_kernel **out, oct_error *err);
oct_status oct_cpu_softmax_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    const oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    if (n->n_in != 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0) return OCT_OK;
    const oct_tensor *X = &g->values[n->in[0]].t;
    int r = X->ndim;
    if (X->dtype != OCT_FLOAT || r < 1) return OCT_OK;
    int64_t axis = oct_attr_int(n, "axis", n->opset < 13 ? 1 : -1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) return OCT_OK;
    sm_kernel *k = calloc(1, sizeof *k);
    if (!k) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    k->outer = k->n = k->inner = 1;
    for (int i = 0; i < r; i++) {
        if (i < axis) k->outer *= X->dims[i];
        else if (i == axis || n->opset < 13) k->n *= X->dims[i];
        else k->inner *= X->dims[i];
    }
    if (k->n == 0 || k->outer == 0 || k->inner == 0) {
        free(k);
        return OCT_OK;
    }
    k->base.impl = "cpu:softmax";
    k->base.node = node;
    k->base.n_in = 1;
    k->base.in_values[0] = n->in[0];
    k->base.in_accept[0] = OCT_ACCEPT_PLAIN;
    k->base.n_out = 1;
    k->base.out_values[0] = n->out[0];
    k->base.out_layout[0] = OCT_LAYOUT_PLAIN;
    k->base.run = sm_run;
    k->base.destroy = sm_destroy;
    *out = &k->base;
    return OCT_OK;
}
