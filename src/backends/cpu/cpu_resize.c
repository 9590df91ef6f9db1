/* Resize / Upsample in nearest mode on 4-D float tensors, resizing H and W:
 * a gather through per-axis source-index tables, threaded over output rows,
 * in plain or channels-last layout (a row of C values is one memcpy). The
 * index tables come from the reference kernel itself, run on a tensor that
 * holds its own indices, so every coordinate mode and rounding rule has one
 * home. */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernels.h"
#include "kernels/ref/ref_nn.h"
#include "ops/op.h"
#include "runtime/exec.h"

typedef struct {
    oct_kernel base;
    int nhwc;
    int64_t n, c, ih, iw, oh, ow;
    int64_t *iy, *ix;
} rs_kernel;

typedef struct {
    rs_kernel *k;
    const float *x;
    float *y;
} rs_job;

static void rs_rows(void *ctx, int64_t b, int64_t e) {
    rs_job *j = ctx;
    rs_kernel *k = j->k;
    for (int64_t r = b; r < e; r++) {
        if (k->nhwc) { /* r = n * oh + oy */
            int64_t n = r / k->oh, oy = r % k->oh;
            const float *src = j->x + (n * k->ih + k->iy[oy]) * k->iw * k->c;
            float *dst = j->y + r * k->ow * k->c;
            for (int64_t ox = 0; ox < k->ow; ox++)
                memcpy(dst + ox * k->c, src + k->ix[ox] * k->c, sizeof(float) * (size_t)k->c);
        } else { /* r = (n * c + ch) * oh + oy */
            int64_t plane = r / k->oh, oy = r % k->oh;
            const float *src = j->x + (plane * k->ih + k->iy[oy]) * k->iw;
            float *dst = j->y + r * k->ow;
            for (int64_t ox = 0; ox < k->ow; ox++) dst[ox] = src[k->ix[ox]];
        }
    }
}

static oct_status rs_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    (void)err;
    rs_kernel *k = (rs_kernel *)kb;
    oct_tensor *y = oct_exec_tensor(x, kb->out_values[0]);
    OCT_TRY(oct_exec_prepare_output(y, 0));
    rs_job j = {k, oct_exec_tensor(x, kb->in_values[0])->data, y->data};
    int64_t rows = k->nhwc ? k->n * k->oh : k->n * k->c * k->oh;
    oct_parallel_for(x->pool, rows, 8, rs_rows, &j);
    return OCT_OK;
}

static void rs_destroy(oct_kernel *kb) {
    rs_kernel *k = (rs_kernel *)kb;
    free(k->iy);
    free(k->ix);
    free(k);
}

/* Source indices along axis d: the reference kernel applied to a tensor
 * that is 1 everywhere but axis d, whose values are their own indices. */
static int index_table(const oct_resize_params *p, int d, int64_t *out) {
    oct_resize_params q = *p;
    for (int i = 0; i < q.ndim; i++)
        if (i != d) {
            q.in[i] = q.out[i] = 1;
            q.scale[i] = 1.0f;
        }
    double *xi = malloc(sizeof(double) * (size_t)p->in[d]), *yo = malloc(sizeof(double) * (size_t)p->out[d]);
    int ok = xi && yo;
    if (ok) {
        for (int64_t i = 0; i < p->in[d]; i++) xi[i] = (double)i;
        ok = oct_ref_resize(&q, xi, yo) == OCT_OK;
    }
    for (int64_t o = 0; ok && o < p->out[d]; o++) {
        out[o] = (int64_t)yo[o];
        if ((double)out[o] != yo[o] || out[o] < 0 || out[o] >= p->in[d]) ok = 0; /* not a pure gather */
    }
    free(xi);
    free(yo);
    return ok;
}

oct_status oct_cpu_resize_create(oct_exec *x, int node, oct_kernel **out, oct_error *err);
oct_status oct_cpu_resize_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0) return OCT_OK;
    const oct_tensor *X = &g->values[n->in[0]].t, *Y = &g->values[n->out[0]].t;
    if (X->dtype != OCT_FLOAT || X->ndim != 4 || Y->ndim != 4) return OCT_OK;
    if (X->dims[0] != Y->dims[0] || X->dims[1] != Y->dims[1]) return OCT_OK;
    for (int i = 1; i < n->n_in; i++) /* roi, scales, sizes must be constants */
        if (n->in[i] >= 0 && !g->values[n->in[i]].is_const) return OCT_OK;
    const oct_tensor *ins[8] = {0};
    oct_tensor *outs[1] = {&g->values[n->out[0]].t};
    for (int i = 0; i < n->n_in && i < 8; i++) ins[i] = n->in[i] >= 0 ? &g->values[n->in[i]].t : NULL;
    oct_opctx c = {n, n->n_in < 8 ? n->n_in : 8, ins, 1, outs, n->opset, 1, NULL};
    oct_resize_params p;
    int upsample = !strcmp(n->op_type, "Upsample");
    if ((upsample ? oct_upsample_params_get(&c, &p) : oct_resize_params_get(&c, &p)) != OCT_OK) return OCT_OK;
    if (p.mode != OCT_RESIZE_NEAREST || p.ndim != 4 || p.coord == OCT_COORD_TF_CROP_AND_RESIZE) return OCT_OK;
    if (p.out[2] != Y->dims[2] || p.out[3] != Y->dims[3]) return OCT_OK;
    rs_kernel *k = calloc(1, sizeof *k);
    if (!k) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    k->n = X->dims[0];
    k->c = X->dims[1];
    k->ih = X->dims[2];
    k->iw = X->dims[3];
    k->oh = Y->dims[2];
    k->ow = Y->dims[3];
    k->iy = malloc(sizeof(int64_t) * (size_t)(k->oh + 1));
    k->ix = malloc(sizeof(int64_t) * (size_t)(k->ow + 1));
    if (!k->iy || !k->ix || !index_table(&p, 2, k->iy) || !index_table(&p, 3, k->ix)) {
        rs_destroy(&k->base);
        return OCT_OK;
    }
    k->nhwc = x->layout[n->in[0]] == OCT_LAYOUT_NHWC;
    k->base.impl = k->nhwc ? "cpu:resize-nearest-nhwc" : "cpu:resize-nearest";
    k->base.node = node;
    k->base.n_in = 1;
    k->base.in_values[0] = n->in[0];
    k->base.in_accept[0] = k->nhwc ? OCT_ACCEPT_NHWC : OCT_ACCEPT_PLAIN;
    k->base.n_out = 1;
    k->base.out_values[0] = n->out[0];
    k->base.out_layout[0] = k->nhwc ? OCT_LAYOUT_NHWC : OCT_LAYOUT_PLAIN;
    k->base.run = rs_run;
    k->base.destroy = rs_destroy;
    *out = &k->base;
    return OCT_OK;
}
