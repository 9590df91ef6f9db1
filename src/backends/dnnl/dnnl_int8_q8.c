/* INT8 tensors kept as int8 codes between INT8 kernels (OCT_LAYOUT_NHWC_Q8,
 * runtime/backend.h): when an INT8 Conv's output is read only by kernels
 * that take codes, the Conv writes s8 codes instead of fake-quantized
 * floats (a quarter of the bytes) and its readers skip the f32 -> u8
 * quantizing reorder. Any other reader gets a float copy from the runtime
 * (exact: code * scale). The q8 backend (backends/cpu/cpu_q8.c) keeps codes
 * through MaxPool, Concat, Split, Resize and Add as well. */
#include <string.h>

#include "backends/cpu/cpu_q8.h"
#include "backends/dnnl/dnnl_common.h"

/* 1 when node c would run as an INT8 Conv reading value v as its data
 * input (and nowhere else): the same conditions oct_dnnl_conv_int8_create
 * checks before oneDNN is asked. Which values may be written as codes is
 * decided in one place for every reader (oct_q8_output,
 * backends/cpu/cpu_q8.c); this is the Conv's part of it. */
int oct_dnnl_int8_conv_reader(const oct_exec *x, int c, int v) {
    const oct_exec_int8 *q8 = x->int8;
    const oct_node *n = &x->g->nodes[c];
    if (!q8 || n->domain[0] || strcmp(n->op_type, "Conv") || c >= q8->n_nodes ||
        !q8->w_scales[c])
        return 0;
    if (n->n_in < 2 || n->in[0] != v) return 0;
    for (int i = 1; i < n->n_in; i++)
        if (n->in[i] == v) return 0;
    return 1;
}

typedef struct {
    const int8_t *q;
    uint8_t *p, *n;
} pn_job;

/* q = p - n with p, n >= 0: the two u8 sources of a signed INT8 input (see
 * dnnl_conv_int8.c); branch-free so that it vectorizes. */
static void pn_chunk(void *ctx, int64_t b, int64_t e) {
    const pn_job *j = ctx;
    const int8_t *restrict q = j->q;
    uint8_t *restrict p = j->p, *restrict n = j->n;
    for (int64_t i = b; i < e; i++) {
        int v = q[i];
        p[i] = (uint8_t)(v > 0 ? v : 0);
        n[i] = (uint8_t)(v < 0 ? -v : 0);
    }
}

void oct_dnnl_q8_split(oct_pool *pool, const int8_t *q, uint8_t *p, uint8_t *n, int64_t count) {
    pn_job j = {q, p, n};
    oct_parallel_for(pool, count, 65536, pn_chunk, &j);
}
