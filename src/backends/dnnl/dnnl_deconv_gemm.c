/* ConvTranspose whose kernel equals its stride (no padding, no dilation, one
 * group): every input pixel writes its own kh x kw block of the output, so
 * the op is one product [pixels x C] x [C x kh*kw*OC] (oneDNN's sgemm) and a
 * scatter with the bias. Decoder upsamplings (PP-OCR's 2x2 stride-2 layers)
 * have this form, and oneDNN 2.6's AVX2 deconvolution ran one of them at
 * 39% of PP-OCRv4 det's time for a ~120 MFLOP product. Plain or
 * channels-last, as its input arrives; the output keeps that layout. */
#include <oneapi/dnnl/dnnl.h>
#include <stdlib.h>
#include <string.h>

#include "backends/dnnl/dnnl_common.h"
#include "runtime/exec.h"

typedef struct {
    oct_kernel base;
    int nhwc;
    int64_t n, c, h, w, oc, kh, kw;
    float *wm;   /* nhwc: [C][kh*kw*OC] (tap-major); plain: [kh*kw*OC as (o, a, b)][C] */
    float *bias; /* [OC], zeros when absent */
    float *z;    /* the product, one image (plain) or all pixels (nhwc) */
} dg_kernel;

typedef struct {
    const dg_kernel *k;
    float *y;
    int64_t img;
} dg_job;

/* nhwc: rows r = n*H + i of output pixels (i*kh + a, j*kw + b). */
static void scatter_nhwc(void *ctx, int64_t b0, int64_t e0) {
    const dg_job *j = ctx;
    const dg_kernel *k = j->k;
    int64_t OH = k->h * k->kh, OW = k->w * k->kw, oc = k->oc, taps = k->kh * k->kw;
    for (int64_t r = b0; r < e0; r++) {
        int64_t n = r / k->h, i = r % k->h;
        for (int64_t jx = 0; jx < k->w; jx++) {
            const float *zp = k->z + (r * k->w + jx) * taps * oc;
            for (int64_t a = 0; a < k->kh; a++)
                for (int64_t b = 0; b < k->kw; b++) {
                    float *yp = j->y + ((n * OH + i * k->kh + a) * OW + jx * k->kw + b) * oc;
                    const float *zt = zp + (a * k->kw + b) * oc;
                    for (int64_t o = 0; o < oc; o++)
                        yp[o] = zt[o] + k->bias[o];
                }
        }
    }
}

/* plain: rows r = o*kh*kw + a*kw + b of the product for image j->img. */
static void scatter_plain(void *ctx, int64_t b0, int64_t e0) {
    const dg_job *j = ctx;
    const dg_kernel *k = j->k;
    int64_t OH = k->h * k->kh, OW = k->w * k->kw, taps = k->kh * k->kw, hw = k->h * k->w;
    for (int64_t r = b0; r < e0; r++) {
        int64_t o = r / taps, a = r % taps / k->kw, b = r % k->kw;
        const float *zr = k->z + r * hw;
        float *yo = j->y + (j->img * k->oc + o) * OH * OW;
        for (int64_t i = 0; i < k->h; i++)
            for (int64_t jx = 0; jx < k->w; jx++)
                yo[(i * k->kh + a) * OW + jx * k->kw + b] = zr[i * k->w + jx] + k->bias[o];
    }
}

static oct_status dg_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    dg_kernel *k = (dg_kernel *)kb;
    const oct_node *nd = &x->g->nodes[kb->node];
    const float *in = oct_exec_tensor(x, kb->in_values[0])->data;
    oct_tensor *y = oct_exec_tensor(x, kb->out_values[0]);
    OCT_TRY(oct_exec_prepare_output(y, 0));
    int64_t okk = k->oc * k->kh * k->kw, hw = k->h * k->w;
    dg_job j = {k, y->data, 0};
    if (k->nhwc) {
        if (dnnl_sgemm('N', 'N', k->n * hw, okk, k->c, 1.0f, in, k->c, k->wm, okk, 0.0f, k->z,
                       okk) != dnnl_success)
            return oct_fail(err, OCT_E_RUNTIME, "node '%s' (ConvTranspose): sgemm failed",
                            nd->name);
        oct_parallel_for(x->pool, k->n * k->h, 4, scatter_nhwc, &j);
        return OCT_OK;
    }
    for (int64_t n = 0; n < k->n; n++) {
        if (dnnl_sgemm('N', 'N', okk, hw, k->c, 1.0f, k->wm, k->c, in + n * k->c * hw, hw, 0.0f,
                       k->z, hw) != dnnl_success)
            return oct_fail(err, OCT_E_RUNTIME, "node '%s' (ConvTranspose): sgemm failed",
                            nd->name);
        j.img = n;
        oct_parallel_for(x->pool, okk, 4, scatter_plain, &j);
    }
    return OCT_OK;
}

static void dg_destroy(oct_kernel *kb) {
    dg_kernel *k = (dg_kernel *)kb;
    free(k->wm);
    free(k->bias);
    free(k->z);
    free(k);
}

static int attr_all(const oct_node *n, const char *name, int64_t want, int64_t count) {
    const int64_t *v;
    int64_t c = oct_attr_ints(n, name, &v);
    if (c < 0) return 1;
    if (c != count) return 0;
    for (int64_t i = 0; i < c; i++)
        if (v[i] != want) return 0;
    return 1;
}

oct_status oct_dnnl_deconv_gemm_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    const oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    if (strcmp(n->op_type, "ConvTranspose") || n->n_in < 2 || n->n_out != 1 || n->out[0] < 0)
        return OCT_OK;
    if (n->in[0] < 0 || n->in[1] < 0 || !g->values[n->in[1]].is_const) return OCT_OK;
    const oct_tensor *X = &g->values[n->in[0]].t, *W = &g->values[n->in[1]].t,
                     *Y = &g->values[n->out[0]].t;
    const oct_tensor *B = n->n_in > 2 && n->in[2] >= 0 ? &g->values[n->in[2]].t : NULL;
    if (X->dtype != OCT_FLOAT || W->dtype != OCT_FLOAT || X->ndim != 4 || W->ndim != 4 ||
        Y->ndim != 4)
        return OCT_OK;
    if (B && (!g->values[n->in[2]].is_const || B->dtype != OCT_FLOAT || oct_numel(B) != W->dims[1]))
        return OCT_OK;
    int64_t kh = W->dims[2], kw = W->dims[3];
    const int64_t *st;
    if (oct_attr_int(n, "group", 1) != 1 || W->dims[0] != X->dims[1]) return OCT_OK;
    if (oct_attr_ints(n, "strides", &st) != 2 || st[0] != kh || st[1] != kw) return OCT_OK;
    if (!attr_all(n, "pads", 0, 4) || !attr_all(n, "dilations", 1, 2) ||
        !attr_all(n, "output_padding", 0, 2))
        return OCT_OK;
    const char *ap = oct_attr_str(n, "auto_pad", "NOTSET");
    if ((strcmp(ap, "NOTSET") && strcmp(ap, "VALID")) || oct_attr_find(n, "output_shape"))
        return OCT_OK;
    if (Y->dims[0] != X->dims[0] || Y->dims[1] != W->dims[1] || Y->dims[2] != X->dims[2] * kh ||
        Y->dims[3] != X->dims[3] * kw)
        return OCT_OK;
    dg_kernel *k = calloc(1, sizeof *k);
    if (!k) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    k->nhwc = x->layout[n->in[0]] == OCT_LAYOUT_NHWC;
    k->n = X->dims[0];
    k->c = X->dims[1];
    k->h = X->dims[2];
    k->w = X->dims[3];
    k->oc = W->dims[1];
    k->kh = kh;
    k->kw = kw;
    int64_t okk = k->oc * kh * kw, taps = kh * kw;
    size_t zn = (size_t)okk * (size_t)(k->h * k->w) * (size_t)(k->nhwc ? k->n : 1);
    k->wm = malloc(sizeof(float) * (size_t)(okk * k->c));
    k->bias = calloc((size_t)k->oc + 1, sizeof(float));
    k->z = malloc(sizeof(float) * (zn ? zn : 1));
    if (!k->wm || !k->bias || !k->z) {
        dg_destroy(&k->base);
        return oct_fail(err, OCT_E_NOMEM, "node '%s' (ConvTranspose): out of memory", n->name);
    }
    /* W is [C][OC][kh][kw] */
    const float *w = W->data;
    for (int64_t c = 0; c < k->c; c++)
        for (int64_t o = 0; o < k->oc; o++)
            for (int64_t t = 0; t < taps; t++) {
                float v = w[(c * k->oc + o) * taps + t];
                if (k->nhwc)
                    k->wm[c * okk + t * k->oc + o] = v;
                else
                    k->wm[(o * taps + t) * k->c + c] = v;
            }
    if (B) memcpy(k->bias, B->data, sizeof(float) * (size_t)k->oc);
    k->base.impl = k->nhwc ? "dnnl:gemm-deconv-nhwc" : "dnnl:gemm-deconv";
    k->base.node = node;
    k->base.n_in = 1;
    k->base.in_values[0] = n->in[0];
    k->base.in_accept[0] = k->nhwc ? OCT_ACCEPT_NHWC : OCT_ACCEPT_PLAIN;
    k->base.n_out = 1;
    k->base.out_values[0] = n->out[0];
    k->base.out_layout[0] = k->nhwc ? OCT_LAYOUT_NHWC : OCT_LAYOUT_PLAIN;
    k->base.run = dg_run;
    k->base.destroy = dg_destroy;
    *out = &k->base;
    return OCT_OK;
}
