/* Layout conversions between plain NCHW and channels-last NHWC, threaded
 * over the batch-and-row dimension. */
#include <stdlib.h>
#include <string.h>

#include "runtime/exec.h"

typedef struct {
    oct_kernel base;
    int from, to;
    oct_layout from_l, to_l;
} reorder_kernel;

typedef struct {
    const float *src;
    float *dst;
    int64_t c, h, w;
    int to_nhwc;
} reorder_job;

/* One task = one (n, h) row; copies all channels of that row. */
static void reorder_rows(void *ctx, int64_t b, int64_t e) {
    const reorder_job *j = ctx;
    int64_t C = j->c, H = j->h, W = j->w;
    for (int64_t r = b; r < e; r++) {
        int64_t n = r / H, y = r % H;
        const float *s = j->src + n * C * H * W;
        float *d = j->dst + n * C * H * W;
        if (j->to_nhwc) {
            for (int64_t c = 0; c < C; c++) {
                const float *sp = s + (c * H + y) * W;
                float *dp = d + y * W * C + c;
                for (int64_t x = 0; x < W; x++) dp[x * C] = sp[x];
            }
        } else {
            for (int64_t c = 0; c < C; c++) {
                const float *sp = s + y * W * C + c;
                float *dp = d + (c * H + y) * W;
                for (int64_t x = 0; x < W; x++) dp[x] = sp[x * C];
            }
        }
    }
}

static oct_status reorder_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    reorder_kernel *k = (reorder_kernel *)kb;
    oct_tensor *src = oct_exec_tensor(x, k->from), *dst = oct_exec_tensor(x, k->to);
    oct_tensor_set_shape(dst, src->dtype, src->ndim, src->dims);
    OCT_TRY(oct_exec_prepare_output(dst, 0));
    if (k->from_l == k->to_l || src->ndim != 4) {
        memcpy(dst->data, src->data, oct_nbytes(src));
        return OCT_OK;
    }
    if (src->dtype != OCT_FLOAT)
        return oct_fail(err, OCT_E_UNSUPPORTED, "layout conversion of %s tensors", oct_dtype_name(src->dtype));
    reorder_job j = {src->data, dst->data, src->dims[1], src->dims[2], src->dims[3], k->to_l == OCT_LAYOUT_NHWC};
    oct_parallel_for(x->pool, src->dims[0] * src->dims[2], 4, reorder_rows, &j);
    return OCT_OK;
}

static void reorder_destroy(oct_kernel *k) { free(k); }

oct_status oct_cpu_reorder_create(oct_exec *x, int from, oct_layout from_l, int to, oct_layout to_l,
                                  oct_kernel **out, oct_error *err) {
    (void)x;
    reorder_kernel *k = calloc(1, sizeof *k);
    if (!k) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    k->base.impl = "cpu:reorder";
    k->base.node = -1;
    k->base.n_in = 1;
    k->base.n_out = 1;
    k->base.in_values[0] = from;
    k->base.in_accept[0] = from_l == OCT_LAYOUT_NHWC ? OCT_ACCEPT_NHWC : OCT_ACCEPT_PLAIN;
    k->base.out_values[0] = to;
    k->base.out_layout[0] = to_l;
    k->base.run = reorder_run;
    k->base.destroy = reorder_destroy;
    k->from = from;
    k->to = to;
    k->from_l = from_l;
    k->to_l = to_l;
    *out = &k->base;
    return OCT_OK;
}
