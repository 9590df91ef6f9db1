/* Layout conversions between plain NCHW and channels-last NHWC, threaded
 * over the batch-and-row dimension, and to and from the int8 codes of an
 * INT8 tensor (OCT_LAYOUT_NHWC_Q8) at the edges of a run of INT8 kernels. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "runtime/exec.h"

typedef struct {
    oct_kernel base;
    int from, to;
    oct_layout from_l, to_l;
    float scale; /* NHWC_Q8 on one side */
} reorder_kernel;

typedef struct {
    const char *src;
    char *dst;
    int64_t c, h, w;
    size_t es; /* element size: Q/DQ models carry int8 tensors too */
    int to_nhwc;
} reorder_job;

/* n elements of es bytes from s (stride ss elements) to d (stride ds). */
static void copy_strided(char *d, int64_t ds, const char *s, int64_t ss, int64_t n, size_t es) {
    switch (es) {
    case 1:
        for (int64_t i = 0; i < n; i++)
            d[i * ds] = s[i * ss];
        break;
    case 2:
        for (int64_t i = 0; i < n; i++)
            ((uint16_t *)d)[i * ds] = ((const uint16_t *)s)[i * ss];
        break;
    case 4:
        for (int64_t i = 0; i < n; i++)
            ((uint32_t *)d)[i * ds] = ((const uint32_t *)s)[i * ss];
        break;
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(d + (size_t)(i * ds) * es, s + (size_t)(i * ss) * es, es);
    }
}

/* One task = one (n, h) row; copies all channels of that row. */
static void reorder_rows(void *ctx, int64_t b, int64_t e) {
    const reorder_job *j = ctx;
    int64_t C = j->c, H = j->h, W = j->w;
    size_t es = j->es;
    for (int64_t r = b; r < e; r++) {
        int64_t n = r / H, y = r % H;
        const char *s = j->src + (size_t)(n * C * H * W) * es;
        char *d = j->dst + (size_t)(n * C * H * W) * es;
        for (int64_t c = 0; c < C; c++) {
            size_t plain = (size_t)((c * H + y) * W) * es, nhwc = (size_t)(y * W * C + c) * es;
            if (j->to_nhwc)
                copy_strided(d + nhwc, C, s + plain, 1, W, es);
            else
                copy_strided(d + plain, 1, s + nhwc, C, W, es);
        }
    }
}

typedef struct {
    const void *src;
    void *dst;
    int64_t c, h, w;
    float scale;
    int to_q8, plain; /* plain: the float side is NCHW */
} q8_job;

/* The same numbers as the simulation's fake quantization (arith.h), so an
 * INT8 tensor kept as codes is the simulated tensor, code for code. */
static void q8_rows(void *ctx, int64_t b, int64_t e) {
    const q8_job *j = ctx;
    int64_t C = j->c, H = j->h, W = j->w;
    float s = j->scale;
    for (int64_t r = b; r < e; r++) {
        int64_t n = r / H, y = r % H, img = n * C * H * W, row = img + y * W * C;
        if (j->to_q8) {
            int8_t *restrict d = (int8_t *)j->dst + row;
            const float *f = j->src;
            for (int64_t x = 0; x < W; x++)
                for (int64_t c = 0; c < C; c++) {
                    float v = j->plain ? f[img + (c * H + y) * W + x] : f[row + x * C + c];
                    d[x * C + c] = (int8_t)oct_fake_quant_code(v / s, -128.0f, 127.0f, 0.0f);
                }
        } else {
            const int8_t *restrict q = (const int8_t *)j->src + row;
            float *f = j->dst;
            if (j->plain) {
                for (int64_t c = 0; c < C; c++)
                    for (int64_t x = 0; x < W; x++)
                        f[img + (c * H + y) * W + x] = (float)q[x * C + c] * s;
            } else {
                float *restrict d = f + row;
                for (int64_t i = 0; i < W * C; i++)
                    d[i] = (float)q[i] * s;
            }
        }
    }
}

static oct_status reorder_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    reorder_kernel *k = (reorder_kernel *)kb;
    oct_tensor *src = oct_exec_tensor(x, k->from), *dst = oct_exec_tensor(x, k->to);
    if ((k->from_l == OCT_LAYOUT_NHWC_Q8) != (k->to_l == OCT_LAYOUT_NHWC_Q8)) {
        int to_q8 = k->to_l == OCT_LAYOUT_NHWC_Q8;
        if (src->ndim != 4 || src->dtype != (to_q8 ? OCT_FLOAT : OCT_INT8) || !(k->scale > 0))
            return oct_fail(err, OCT_E_UNSUPPORTED,
                            "int8 code conversion of a %s tensor of rank %d",
                            oct_dtype_name(src->dtype), src->ndim);
        oct_tensor_set_shape(dst, to_q8 ? OCT_INT8 : OCT_FLOAT, src->ndim, src->dims);
        OCT_TRY(oct_exec_prepare_output(dst, 0));
        q8_job j = {src->data,    dst->data,
                    src->dims[1], src->dims[2],
                    src->dims[3], k->scale,
                    to_q8,        (to_q8 ? k->from_l : k->to_l) == OCT_LAYOUT_PLAIN};
        oct_parallel_for(x->pool, src->dims[0] * src->dims[2], 4, q8_rows, &j);
        return OCT_OK;
    }
    oct_tensor_set_shape(dst, src->dtype, src->ndim, src->dims);
    OCT_TRY(oct_exec_prepare_output(dst, 0));
    if (k->from_l == k->to_l || src->ndim != 4) {
        memcpy(dst->data, src->data, oct_nbytes(src));
        return OCT_OK;
    }
    size_t es = oct_dtype_size(src->dtype);
    if (!es)
        return oct_fail(err, OCT_E_UNSUPPORTED, "layout conversion of %s tensors",
                        oct_dtype_name(src->dtype));
    reorder_job j = {src->data,
                     dst->data,
                     src->dims[1],
                     src->dims[2],
                     src->dims[3],
                     es,
                     k->to_l == OCT_LAYOUT_NHWC};
    oct_parallel_for(x->pool, src->dims[0] * src->dims[2], 4, reorder_rows, &j);
    return OCT_OK;
}

static void reorder_destroy(oct_kernel *k) { free(k); }

oct_status oct_cpu_reorder_create(oct_exec *x, int from, oct_layout from_l, int to, oct_layout to_l,
                                  float scale, oct_kernel **out, oct_error *err) {
    (void)x;
    reorder_kernel *k = calloc(1, sizeof *k);
    if (!k) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    k->base.impl = "cpu:reorder";
    k->base.node = -1;
    k->base.n_in = 1;
    k->base.n_out = 1;
    k->base.in_values[0] = from;
    k->base.in_accept[0] = from_l == OCT_LAYOUT_NHWC      ? OCT_ACCEPT_NHWC
                           : from_l == OCT_LAYOUT_NHWC_Q8 ? OCT_ACCEPT_NHWC_Q8
                                                          : OCT_ACCEPT_PLAIN;
    k->base.out_values[0] = to;
    k->base.out_layout[0] = to_l;
    k->base.run = reorder_run;
    k->base.destroy = reorder_destroy;
    k->from = from;
    k->to = to;
    k->from_l = from_l;
    k->to_l = to_l;
    k->scale = scale;
    *out = &k->base;
    return OCT_OK;
}
