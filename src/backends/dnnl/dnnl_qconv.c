/* QLinearConv and ConvInteger on oneDNN, bit-exact with the reference
 * kernels (kernels/ref/conv_integer.c and the requantization of
 * ops/conv_integer.c).
 *
 * Why not oneDNN's INT8 convolution: without VNNI (this AVX2 CPU) it
 * multiplies with vpmaddubsw, which saturates u8 x s8 pair sums at int16;
 * with ONNX codes up to 255 (uint8 inputs, any zero point) pairs of
 * 255 * 127 * 2 overflow, and its s8-source workaround halves the weights.
 * Instead the kernel runs oneDNN's f32 convolution on integer-valued
 * floats:
 *
 *   src = float(x - x_zp)        (|.| <= 255, exact)
 *   wei = float(w - w_zp[oc])    (|.| <= 255, exact, packed once)
 *   dst = conv(src, wei)         every product is an integer <= 255 * 255
 *
 * Float addition of integers is exact while every partial sum stays below
 * 2^24 in magnitude, whatever order oneDNN sums in (direct convolution: no
 * Winograd-like transforms; fpmath mode strict, so no bf16 down-conversion).
 * Any partial sum of output channel oc is bounded by
 *   sum_k |w_k - w_zp[oc]| * max |x - x_zp|
 * (max |x - x_zp| from the constant zero point, else the code range, 255),
 * computed when the kernel is created: when the bound over all channels is
 * below 2^24 every run is exact; otherwise the kernel declines and the
 * reference runs the node. Then acc = (int32)dst is the reference's int32
 * accumulator exactly, and the output pass does what the reference does
 * with it: ConvInteger stores it; QLinearConv adds the int32 bias (wrapping,
 * as the reference) and requantizes under the scale of oct_q_conv_scale
 * with oct_q_requant8 (ref_quant.h: the reference's oct_q_requant in a form
 * that vectorizes, the same result for every input; the libm rounding call
 * of oct_q_requant took 60% of the time).
 *
 * Layouts: the graph's tensors stay in ONNX's NCHW (the kernel's input and
 * output are plain); the convolution runs channels-last on f32 buffers in
 * the backend's shared scratch, and the two threaded passes transpose as
 * they convert (NCHW codes -> NHWC floats, NHWC floats -> NCHW codes). */
#include <stdlib.h>
#include <string.h>

#include "backends/dnnl/dnnl_common.h"
#include "kernels/ref/ref_quant.h"

/* Tile edge of the transposing passes: 64 x 64 floats stay in L1. Rows
 * are LD elements apart, not 64: a 256-byte stride would map the column
 * reads of the transpose onto a quarter of L1's sets (measured: 60% of
 * the output pass in conflict misses). */
#define TILE 64
#define LD (TILE + 4)
/* Float sums of integers are exact below this magnitude. */
#define EXACT_LIMIT (INT64_C(1) << 24)

typedef struct {
    oct_kernel base;
    int qlinear;           /* QLinearConv (else ConvInteger) */
    oct_dnnl_prim conv;    /* the f32 convolution; src and dst set per run */
    int src_arg, dst_arg;  /* their indices in conv.args */
    int64_t N, C, P;       /* input: images, channels, spatial positions */
    int64_t M, Q;          /* output: channels, spatial positions */
    size_t dst_off, bytes; /* scratch: src at 0, dst at dst_off, total */
    float *scale;          /* per output channel (QLinearConv), per run */
    int32_t *bias;
} qconv_kernel;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- input pass: NCHW codes -> NHWC floats (x - x_zp) ---- */

typedef struct {
    const void *x;
    oct_dtype dt;
    int32_t zp;
    int64_t C, P, nblk; /* nblk: position tiles per image */
    float *dst;
} in_pass;

/* Per tile of TILE positions x TILE channels: convert channel rows
 * (contiguous, vectorized) into an L1 tile, then write position rows. */
static void in_range(void *vc, int64_t b, int64_t e) {
    const in_pass *c = vc;
    float tile[TILE * LD];
    for (int64_t i = b; i < e; i++) {
        int64_t n = i / c->nblk, p0 = (i % c->nblk) * TILE, pw = min64(TILE, c->P - p0);
        float *dn = c->dst + n * c->P * c->C;
        for (int64_t c0 = 0; c0 < c->C; c0 += TILE) {
            int64_t cw = min64(TILE, c->C - c0);
            for (int64_t j = 0; j < cw; j++) {
                int64_t off = (n * c->C + c0 + j) * c->P + p0;
                float *t = tile + j * LD;
                if (c->dt == OCT_UINT8) {
                    const uint8_t *s = (const uint8_t *)c->x + off;
                    for (int64_t p = 0; p < pw; p++)
                        t[p] = (float)((int32_t)s[p] - c->zp);
                } else {
                    const int8_t *s = (const int8_t *)c->x + off;
                    for (int64_t p = 0; p < pw; p++)
                        t[p] = (float)((int32_t)s[p] - c->zp);
                }
            }
            for (int64_t p = 0; p < pw; p++) {
                float *d = dn + (p0 + p) * c->C + c0;
                for (int64_t j = 0; j < cw; j++)
                    d[j] = tile[j * LD + p];
            }
        }
    }
}

/* ---- output pass: NHWC exact sums -> NCHW int32 or requantized codes ---- */

typedef struct {
    const float *src;
    void *y;
    oct_dtype dt; /* int32 (ConvInteger), uint8 or int8 */
    int64_t M, Q, nblk;
    const float *scale;
    const int32_t *bias;
    float zp, lo, hi;
} out_pass;

/* Per tile of TILE positions x TILE channels: the results of channel-
 * contiguous rows (vectorized over the channels, with their scales and
 * biases) into an L1 tile, then the output's channel rows. */
static void out_range(void *vc, int64_t b, int64_t e) {
    const out_pass *c = vc;
    int32_t tile[TILE * LD];
    for (int64_t i = b; i < e; i++) {
        int64_t n = i / c->nblk, q0 = (i % c->nblk) * TILE, qw = min64(TILE, c->Q - q0);
        const float *sn = c->src + (n * c->Q + q0) * c->M;
        for (int64_t m0 = 0; m0 < c->M; m0 += TILE) {
            int64_t mw = min64(TILE, c->M - m0);
            for (int64_t q = 0; q < qw; q++) {
                const float *s = sn + q * c->M + m0;
                int32_t *t = tile + q * LD;
                /* (int32) of an integer-valued float below 2^24: exact */
                if (c->dt == OCT_INT32) {
                    for (int64_t j = 0; j < mw; j++)
                        t[j] = (int32_t)s[j];
                    continue;
                }
                const float *sc = c->scale + m0;
                const int32_t *bi = c->bias + m0;
                float zp = c->zp, lo = c->lo, hi = c->hi;
                /* the reference's bias add: int32 arithmetic modulo 2^32 */
                for (int64_t j = 0; j < mw; j++) {
                    int32_t acc = (int32_t)((uint32_t)(int32_t)s[j] + (uint32_t)bi[j]);
                    t[j] = (int32_t)oct_q_requant8(acc, sc[j], zp, lo, hi);
                }
            }
            for (int64_t j = 0; j < mw; j++) {
                int64_t off = (n * c->M + m0 + j) * c->Q + q0;
                if (c->dt == OCT_INT32) {
                    int32_t *yr = (int32_t *)c->y + off;
                    for (int64_t q = 0; q < qw; q++)
                        yr[q] = tile[q * LD + j];
                } else if (c->dt == OCT_UINT8) {
                    uint8_t *yr = (uint8_t *)c->y + off;
                    for (int64_t q = 0; q < qw; q++)
                        yr[q] = (uint8_t)tile[q * LD + j];
                } else {
                    int8_t *yr = (int8_t *)c->y + off;
                    for (int64_t q = 0; q < qw; q++)
                        yr[q] = (int8_t)tile[q * LD + j];
                }
            }
        }
    }
}

static const oct_tensor *kin(oct_exec *x, const oct_kernel *k, int i) {
    return i < k->n_in && k->in_values[i] >= 0 ? oct_exec_tensor(x, k->in_values[i]) : NULL;
}

/* Grain of a pass over tiles of TILE positions x `width` channels: about
 * 32K elements per chunk, so threads do not fight over tiny chunks. */
static int64_t grain(int64_t width) {
    int64_t g = (32 * 1024) / (TILE * (width > 0 ? width : 1));
    return g > 0 ? g : 1;
}

static oct_status qconv_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    qconv_kernel *k = (qconv_kernel *)kb;
    oct_dnnl *d = x->dnnl;
    const oct_tensor *X = kin(x, kb, 0), *xz = kin(x, kb, 2);
    oct_tensor *y = oct_exec_tensor(x, kb->out_values[0]);
    OCT_TRY(oct_exec_prepare_output(y, 0));
    if (d->scratch_cap < k->bytes) {
        float *ns = realloc(d->scratch, k->bytes);
        if (!ns)
            return oct_fail(err, OCT_E_NOMEM,
                            "out of memory for the integer convolution's scratch");
        d->scratch = ns;
        d->scratch_cap = k->bytes;
    }
    float *src = d->scratch, *dst = (float *)((char *)d->scratch + k->dst_off);

    /* zero points and scales as the reference reads them (oct_get_f64,
     * then (int32) / float); they may be computed at run time */
    in_pass ip = {.x = X->data,
                  .dt = X->dtype,
                  .zp = xz ? (int32_t)oct_get_f64(xz, 0) : 0,
                  .C = k->C,
                  .P = k->P,
                  .nblk = (k->P + TILE - 1) / TILE,
                  .dst = src};
    oct_parallel_for(x->pool, k->N * ip.nblk, grain(k->C), in_range, &ip);

    dnnl_memory_set_data_handle(k->conv.args[k->src_arg].memory, src);
    dnnl_memory_set_data_handle(k->conv.args[k->dst_arg].memory, dst);
    OCT_TRY(oct_dnnl_execute(&k->conv, kb, x, err));

    out_pass op = {.src = dst,
                   .y = y->data,
                   .dt = y->dtype,
                   .M = k->M,
                   .Q = k->Q,
                   .nblk = (k->Q + TILE - 1) / TILE,
                   .scale = k->scale,
                   .bias = k->bias};
    if (k->qlinear) {
        const oct_tensor *xs = kin(x, kb, 1), *ws = kin(x, kb, 4), *ys = kin(x, kb, 6);
        const oct_tensor *yz = kin(x, kb, 7), *b = kin(x, kb, 8);
        int64_t nws = oct_numel(ws);
        double xsv = oct_get_f64(xs, 0), ysv = oct_get_f64(ys, 0);
        for (int64_t m = 0; m < k->M; m++) {
            k->scale[m] = oct_q_conv_scale(xsv, oct_get_f64(ws, nws == 1 ? 0 : m), ysv);
            k->bias[m] = b ? ((const int32_t *)b->data)[m] : 0;
        }
        int32_t lo, hi;
        oct_q_range(y->dtype, &lo, &hi);
        op.zp = (float)(yz ? (int32_t)oct_get_f64(yz, 0) : 0);
        op.lo = (float)lo;
        op.hi = (float)hi;
    }
    oct_parallel_for(x->pool, k->N * op.nblk, grain(k->M), out_range, &op);
    return OCT_OK;
}

static void qconv_destroy(oct_kernel *kb) {
    qconv_kernel *k = (qconv_kernel *)kb;
    oct_dnnl_prim_destroy(&k->conv);
    free(k->scale);
    free(k->bias);
    free(k);
}

/* Input i of node n, or NULL when absent. */
static const oct_value *node_in(const oct_graph *g, const oct_node *n, int i) {
    return i < n->n_in && n->in[i] >= 0 ? &g->values[n->in[i]] : NULL;
}

/* 1 when optional input v is absent, or has numel 1 or `count` and, unless
 * dt is OCT_UNDEFINED, dtype dt (else: any real dtype). The reference
 * reports malformed nodes; this kernel just leaves them to it. */
static int vec_ok(const oct_value *v, int64_t count, oct_dtype dt) {
    if (!v) return 1;
    int64_t k = oct_numel(&v->t);
    if (v->t.ndim > 1 || (k != 1 && k != count)) return 0;
    return dt != OCT_UNDEFINED ? v->t.dtype == dt : oct_nn_is_real(v->t.dtype);
}

oct_status oct_dnnl_qconv_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    const oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    int qlinear = !strcmp(n->op_type, "QLinearConv");
    int wi = qlinear ? 3 : 1, wzi = qlinear ? 5 : 3;
    if (n->n_in > OCT_KERNEL_MAX_IN || n->n_out != 1) return OCT_OK;
    oct_dnnl_conv_geom gm;
    if (!oct_dnnl_conv_geometry_integer(x, node, wi, &gm)) return OCT_OK;
    const oct_value *X = node_in(g, n, 0), *W = node_in(g, n, wi), *Y = &g->values[n->out[0]];
    const oct_value *xz = node_in(g, n, 2), *wz = node_in(g, n, wzi);
    int64_t M = gm.OC;
    if (!vec_ok(xz, 1, X->t.dtype) || (xz && oct_numel(&xz->t) != 1) || !vec_ok(wz, M, W->t.dtype))
        return OCT_OK;
    if (wz && (!wz->is_const || !wz->t.data)) return OCT_OK; /* folded into the packed weights */
    if (qlinear) {
        const oct_value *xs = node_in(g, n, 1), *ws = node_in(g, n, 4), *ys = node_in(g, n, 6);
        const oct_value *yz = node_in(g, n, 7), *b = node_in(g, n, 8);
        if (!xs || !ws || !ys || !vec_ok(xs, 1, OCT_UNDEFINED) || oct_numel(&xs->t) != 1 ||
            !vec_ok(ws, M, OCT_UNDEFINED) || !vec_ok(ys, 1, OCT_UNDEFINED) ||
            oct_numel(&ys->t) != 1)
            return OCT_OK;
        if (Y->t.dtype != OCT_UINT8 && Y->t.dtype != OCT_INT8) return OCT_OK;
        if (!vec_ok(yz, 1, Y->t.dtype) || (yz && oct_numel(&yz->t) != 1)) return OCT_OK;
        if (b && (b->t.dtype != OCT_INT32 || b->t.ndim != 1 || b->t.dims[0] != M)) return OCT_OK;
    } else if (Y->t.dtype != OCT_INT32) {
        return OCT_OK;
    }

    /* The weights minus their zero points, as floats (exact), and the bound
     * on any partial sum (see the top of the file). */
    int64_t K = (gm.C / gm.group) * gm.KH * gm.KW, sum_max = 0;
    int32_t lo, hi;
    oct_q_range(X->t.dtype, &lo, &hi);
    int64_t x_max = hi - lo; /* the zero point is only known at run time */
    if (!xz || (xz->is_const && xz->t.data)) {
        int32_t z = xz ? (int32_t)oct_get_f64(&xz->t, 0) : 0;
        x_max = z - lo > hi - z ? z - lo : hi - z;
    }
    float *wf = malloc((size_t)(M * K) * sizeof *wf + 1);
    if (!wf) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    int64_t nwz = wz ? oct_numel(&wz->t) : 0;
    for (int64_t m = 0; m < M; m++) {
        int32_t z = wz ? (int32_t)oct_get_f64(&wz->t, nwz == 1 ? 0 : m) : 0;
        int64_t s = 0;
        for (int64_t i = 0; i < K; i++) {
            int32_t v = oct_q_get(W->t.data, W->t.dtype, m * K + i) - z;
            wf[m * K + i] = (float)v;
            s += v < 0 ? -v : v;
        }
        if (s > sum_max) sum_max = s;
    }
    if (sum_max * x_max >= EXACT_LIMIT) {
        free(wf);
        return OCT_OK;
    }

    oct_dnnl *d = x->dnnl;
    int64_t group = gm.group, C = gm.C, OC = gm.OC;
    dnnl_memory_desc_t src_md, w_md, w_plain, dst_md;
    dnnl_dims_t sd = {gm.N, C, gm.H, gm.W}, dd = {gm.N, OC, gm.OH, gm.OW};
    dnnl_dims_t wd5 = {group, OC / group, C / group, gm.KH, gm.KW}, wd4 = {OC, C, gm.KH, gm.KW};
    dnnl_memory_desc_init_by_tag(&src_md, 4, sd, dnnl_f32, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, dnnl_f32, dnnl_nhwc);
    if (group > 1) {
        dnnl_memory_desc_init_by_tag(&w_md, 5, wd5, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&w_plain, 5, wd5, dnnl_f32, dnnl_goihw);
    } else {
        dnnl_memory_desc_init_by_tag(&w_md, 4, wd4, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&w_plain, 4, wd4, dnnl_f32, dnnl_oihw);
    }
    dnnl_dims_t ds = {gm.strides[0], gm.strides[1]}, dl = {gm.dil[0] - 1, gm.dil[1] - 1},
                pdl = {gm.pl[0], gm.pl[1]}, pdr = {gm.pr[0], gm.pr[1]};
    dnnl_convolution_desc_t cd;
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                   dnnl_convolution_direct, &src_md, &w_md, NULL,
                                                   &dst_md, ds, dl, pdl, pdr) == dnnl_success) {
        /* strict f32 math even if the environment sets another default:
         * a bf16 down-conversion would round the sums */
        dnnl_primitive_attr_t attr = NULL;
        dnnl_primitive_attr_create(&attr);
        dnnl_primitive_attr_set_fpmath_mode(attr, dnnl_fpmath_mode_strict);
        if (dnnl_primitive_desc_create(&pd, &cd, attr, d->engine, NULL) != dnnl_success) pd = NULL;
        dnnl_primitive_attr_destroy(attr);
    }
    if (!pd) {
        free(wf);
        return OCT_OK;
    }

    qconv_kernel *k = calloc(1, sizeof *k);
    oct_status st = k ? OCT_OK : oct_fail(err, OCT_E_NOMEM, "out of memory");
    if (!st) {
        k->scale = malloc((size_t)M * sizeof *k->scale + 1);
        k->bias = calloc((size_t)M + 1, sizeof *k->bias);
        if (!k->scale || !k->bias) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    if (!st) st = oct_dnnl_prim_create(&k->conv, pd, err);
    const dnnl_memory_desc_t *w_best = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_t wmem = NULL;
    if (!st) {
        k->src_arg = k->conv.n_args;
        st = oct_dnnl_arg_buffer(d, &k->conv, DNNL_ARG_SRC, &src_md, NULL, err);
    }
    if (!st) st = oct_dnnl_arg_owned(d, &k->conv, DNNL_ARG_WEIGHTS, w_best, &wmem, err);
    if (!st) st = oct_dnnl_fill(d, wmem, &w_plain, wf, err);
    if (!st) {
        k->dst_arg = k->conv.n_args;
        st = oct_dnnl_arg_buffer(d, &k->conv, DNNL_ARG_DST, &dst_md, NULL, err);
    }
    dnnl_primitive_desc_destroy(pd);
    free(wf);
    if (st) {
        if (k) qconv_destroy(&k->base);
        return st;
    }
    k->qlinear = qlinear;
    k->N = gm.N;
    k->C = C;
    k->P = gm.H * gm.W;
    k->M = OC;
    k->Q = gm.OH * gm.OW;
    /* dst 64-byte aligned after src */
    size_t src_bytes = (size_t)(k->N * k->C * k->P) * sizeof(float);
    k->dst_off = (src_bytes + 63) & ~(size_t)63;
    k->bytes = k->dst_off + (size_t)(k->N * k->M * k->Q) * sizeof(float);

    k->base.impl = qlinear ? "dnnl:qlinearconv-f32exact" : "dnnl:convinteger-f32exact";
    k->base.node = node;
    /* every input, in ONNX's layout: the data, and the scales, zero points
     * and bias read at run time (so they stay live until this step) */
    k->base.n_in = n->n_in;
    for (int i = 0; i < n->n_in; i++) {
        k->base.in_values[i] = n->in[i];
        k->base.in_accept[i] = OCT_ACCEPT_PLAIN;
    }
    k->base.n_out = 1;
    k->base.out_values[0] = n->out[0];
    k->base.out_layout[0] = OCT_LAYOUT_PLAIN;
    k->base.run = qconv_run;
    k->base.destroy = qconv_destroy;
    *out = &k->base;
    return OCT_OK;
}
