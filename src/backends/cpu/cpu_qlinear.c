/* Threaded DynamicQuantizeLinear and com.microsoft QLinearAdd / QLinearMul,
 * bit-exact with the reference kernels (kernels/ref/quantize_linear.c,
 * kernels/ref/qlinear_elementwise.c).
 *
 * DynamicQuantizeLinear: the range is a min/max reduction, which is exact in
 * any order (no rounding; NaN is skipped by every comparison; the lanes
 * start at +0 as the reference does and never take a -0, which compares
 * equal), so blocks of it run in parallel and their results are combined.
 * The scale and zero point then come from the reference's own helper
 * (oct_dynq_params), and the codes from its per-element function
 * (oct_dynq_code), in a loop that vectorizes.
 *
 * QLinearAdd / QLinearMul: each output code is a function of the two input
 * codes only, so with constant scales and zero points the kernel tabulates
 * that function once, through the reference's per-element helpers
 * (oct_qadd_code, oct_qmul_code in ref_quant.h), for all 256 x 256 code
 * pairs, and the run is one table look-up per element. That is exact by
 * construction, and it avoids the fmaf calls that the reference's
 * arithmetic needs (not vectorizable without -mfma). Plain layout: the ops
 * run on plain tensors. */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernels.h"
#include "kernels/ref/ref_quant.h"
#include "runtime/exec.h"

/* ---- DynamicQuantizeLinear ------------------------------------------------ */

enum { DQ_BLOCKS = 64, DQ_LANES = 8 };

typedef struct {
    oct_kernel base;
    int has_scale, has_zp; /* which optional outputs the node has */
} dynq_kernel;

typedef struct {
    const float *x;
    uint8_t *y;
    int64_t n, block;
    float s, zp;
    float mn[DQ_BLOCKS], mx[DQ_BLOCKS];
} dynq_job;

/* The reference's comparisons, `v < mn ? v : mn`, which gcc turns into
 * minps / maxps (the same operand order, so NaN keeps mn); eight
 * independent lanes let the loop vectorize without reassociation. */
static void dynq_minmax(void *ctx, int64_t b, int64_t e) {
    dynq_job *j = ctx;
    for (int64_t blk = b; blk < e; blk++) {
        const float *restrict x = j->x;
        int64_t lo = blk * j->block, hi = lo + j->block < j->n ? lo + j->block : j->n;
        float mn[DQ_LANES] = {0}, mx[DQ_LANES] = {0};
        int64_t i = lo;
        for (; i + DQ_LANES <= hi; i += DQ_LANES)
            for (int l = 0; l < DQ_LANES; l++) {
                float v = x[i + l];
                mn[l] = v < mn[l] ? v : mn[l];
                mx[l] = v > mx[l] ? v : mx[l];
            }
        for (; i < hi; i++) {
            mn[0] = x[i] < mn[0] ? x[i] : mn[0];
            mx[0] = x[i] > mx[0] ? x[i] : mx[0];
        }
        for (int l = 1; l < DQ_LANES; l++) {
            mn[0] = mn[l] < mn[0] ? mn[l] : mn[0];
            mx[0] = mx[l] > mx[0] ? mx[l] : mx[0];
        }
        j->mn[blk] = mn[0];
        j->mx[blk] = mx[0];
    }
}

/* restrict locals and parameters by value so that the loop vectorizes */
static void dynq_codes(const float *restrict x, uint8_t *restrict y, int64_t n, float s, float zp) {
    for (int64_t i = 0; i < n; i++)
        y[i] = oct_dynq_code(x[i], s, zp);
}

static void dynq_quant(void *ctx, int64_t b, int64_t e) {
    const dynq_job *j = ctx;
    dynq_codes(j->x + b, j->y + b, e - b, j->s, j->zp);
}

static oct_status dynq_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    (void)err;
    dynq_kernel *k = (dynq_kernel *)kb;
    const oct_tensor *xt = oct_exec_tensor(x, kb->in_values[0]);
    for (int o = 0; o < kb->n_out; o++)
        OCT_TRY(oct_exec_prepare_output(oct_exec_tensor(x, kb->out_values[o]), 0));
    dynq_job j;
    j.x = xt->data;
    j.y = oct_exec_tensor(x, kb->out_values[0])->data;
    j.n = oct_numel(xt);
    /* fixed blocks (not the pool's chunks): each block's result has a slot */
    j.block = (j.n + DQ_BLOCKS - 1) / DQ_BLOCKS;
    if (j.block < 4096) j.block = 4096;
    int64_t nb = (j.n + j.block - 1) / j.block;
    oct_parallel_for(x->pool, nb, 1, dynq_minmax, &j);
    float mn = 0.0f, mx = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        mn = j.mn[b] < mn ? j.mn[b] : mn;
        mx = j.mx[b] > mx ? j.mx[b] : mx;
    }
    int32_t zp;
    j.s = oct_dynq_params(mn, mx, &zp);
    j.zp = (float)zp;
    oct_parallel_for(x->pool, j.n, 16384, dynq_quant, &j);
    int o = 1;
    if (k->has_scale) *(float *)oct_exec_tensor(x, kb->out_values[o++])->data = j.s;
    if (k->has_zp) *(uint8_t *)oct_exec_tensor(x, kb->out_values[o])->data = (uint8_t)zp;
    return OCT_OK;
}

static void free_kernel(oct_kernel *k) { free(k); }

oct_status oct_cpu_dynquant_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    const oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    /* a default-domain op: a same-named node of another domain is not it */
    if (n->domain[0] || n->n_in < 1 || n->in[0] < 0 || n->n_out < 1 || n->out[0] < 0) return OCT_OK;
    const oct_tensor *xt = &g->values[n->in[0]].t;
    if (xt->dtype != OCT_FLOAT || g->values[n->out[0]].t.dtype != OCT_UINT8) return OCT_OK;
    dynq_kernel *k = calloc(1, sizeof *k);
    if (!k) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    k->base.impl = "cpu:dynquant";
    k->base.node = node;
    k->base.n_in = 1;
    k->base.in_values[0] = n->in[0];
    k->base.in_accept[0] = OCT_ACCEPT_PLAIN;
    k->base.out_values[k->base.n_out] = n->out[0];
    k->base.out_layout[k->base.n_out++] = OCT_LAYOUT_PLAIN;
    for (int o = 1; o < 3 && o < n->n_out; o++) {
        if (n->out[o] < 0) continue;
        if (o == 1)
            k->has_scale = 1;
        else
            k->has_zp = 1;
        k->base.out_values[k->base.n_out] = n->out[o];
        k->base.out_layout[k->base.n_out++] = OCT_LAYOUT_PLAIN;
    }
    k->base.run = dynq_run;
    k->base.destroy = free_kernel;
    *out = &k->base;
    return OCT_OK;
}

/* ---- com.microsoft QLinearAdd / QLinearMul -------------------------------- */

typedef struct {
    oct_kernel base;
    int b_scalar;       /* B is one element (A is the output's shape) */
    uint8_t lut[65536]; /* output code bits for (A code bits << 8 | B code bits) */
} qbin_kernel;

typedef struct {
    const qbin_kernel *k;
    const uint8_t *a, *b;
    uint8_t *c;
} qbin_job;

static void qbin_chunk(void *ctx, int64_t b, int64_t e) {
    const qbin_job *j = ctx;
    const uint8_t *restrict lut = j->k->lut, *restrict a = j->a, *restrict bb = j->b;
    uint8_t *restrict c = j->c;
    if (j->k->b_scalar) {
        const uint8_t *row = lut + ((size_t)bb[0]); /* column of B's code */
        for (int64_t i = b; i < e; i++)
            c[i] = row[(size_t)a[i] << 8];
        return;
    }
    for (int64_t i = b; i < e; i++)
        c[i] = lut[(size_t)a[i] << 8 | bb[i]];
}

static oct_status qbin_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    (void)err;
    oct_tensor *c = oct_exec_tensor(x, kb->out_values[0]);
    OCT_TRY(oct_exec_prepare_output(c, 0));
    qbin_job j = {(const qbin_kernel *)kb, oct_exec_tensor(x, kb->in_values[0])->data,
                  oct_exec_tensor(x, kb->in_values[1])->data, c->data};
    oct_parallel_for(x->pool, oct_numel(c), 16384, qbin_chunk, &j);
    return OCT_OK;
}

/* Input i as a constant one-element parameter (def when absent), read as
 * the op does (ops/qlinear_elementwise.c); 0 when not constant. */
static int const_param(const oct_graph *g, const oct_node *n, int i, oct_dtype dt, double def,
                       double *v) {
    if (i >= n->n_in || n->in[i] < 0) {
        *v = def;
        return 1;
    }
    const oct_value *t = &g->values[n->in[i]];
    if (!t->is_const || oct_numel(&t->t) != 1) return 0;
    if (dt != OCT_UNDEFINED ? t->t.dtype != dt : !oct_nn_is_real(t->t.dtype)) return 0;
    *v = oct_get_f64(&t->t, 0);
    return 1;
}

oct_status oct_cpu_qlinear_binary_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    const oct_graph *g = x->g;
    const oct_node *n = &g->nodes[node];
    /* com.microsoft ops: a default-domain node of the same name is not it */
    if (strcmp(n->domain, "com.microsoft") || n->n_in < 7 || n->n_out != 1 || n->out[0] < 0 ||
        n->in[0] < 0 || n->in[3] < 0 || !n->def)
        return OCT_OK;
    int add = !strcmp(n->op_type, "QLinearAdd");
    if (!add && strcmp(n->op_type, "QLinearMul")) return OCT_OK;
    const oct_tensor *a = &g->values[n->in[0]].t, *b = &g->values[n->in[3]].t;
    const oct_tensor *c = &g->values[n->out[0]].t;
    oct_dtype dt = a->dtype;
    if ((dt != OCT_UINT8 && dt != OCT_INT8) || b->dtype != dt || c->dtype != dt) return OCT_OK;
    /* same shape, or a one-element B; other broadcasts stay on the
     * reference, whose operand order for them (a broadcast A swaps the
     * roles in QLinearAdd) this table does not model */
    if (!oct_shape_equal(a, c)) return OCT_OK;
    int b_scalar = !oct_shape_equal(b, c);
    if (b_scalar && oct_numel(b) != 1) return OCT_OK;
    double v[6];
    static const int idx[6] = {1, 2, 4, 5, 6, 7};
    for (int i = 0; i < 6; i++)
        if (!const_param(g, n, idx[i], i % 2 ? dt : OCT_UNDEFINED, i % 2 ? 0.0 : 1.0, &v[i]))
            return OCT_OK;
    qbin_kernel *k = calloc(1, sizeof *k);
    if (!k) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    /* the parameters exactly as oct_ref_qlinear_binary receives them */
    float as = (float)v[0], bs = (float)v[2], cs = (float)v[4];
    int32_t az = (int32_t)v[1], bz = (int32_t)v[3], cz = (int32_t)v[5];
    int32_t lo, hi;
    oct_q_range(dt, &lo, &hi);
    /* QLinearAdd with A of the output's shape: A is MLAS's A (x), B its B */
    float rx = as / cs, ry = bs / cs;
    float fixed = oct_qadd_fixed(rx, (float)az, ry, (float)bz, (float)cz);
    float ratio = as * bs / cs;
    for (int ub = 0; ub < 256; ub++) {
        int32_t qb = dt == OCT_INT8 ? (int32_t)(int8_t)ub : ub;
        float fy = oct_qadd_fy(qb, ry, fixed);
        for (int ua = 0; ua < 256; ua++) {
            int32_t qa = dt == OCT_INT8 ? (int32_t)(int8_t)ua : ua;
            int32_t r = add ? oct_qadd_code(qa, rx, fy, lo, hi)
                            : oct_qmul_code(qa, qb, az, bz, ratio, (float)cz, lo, hi);
            k->lut[ua << 8 | ub] = (uint8_t)r; /* int8: its two's complement bits */
        }
    }
    k->b_scalar = b_scalar;
    k->base.impl = add ? "cpu:qlinearadd" : "cpu:qlinearmul";
    k->base.node = node;
    k->base.n_in = 2;
    k->base.in_values[0] = n->in[0];
    k->base.in_values[1] = n->in[3];
    k->base.in_accept[0] = k->base.in_accept[1] = OCT_ACCEPT_PLAIN;
    k->base.n_out = 1;
    k->base.out_values[0] = n->out[0];
    k->base.out_layout[0] = OCT_LAYOUT_PLAIN;
    k->base.run = qbin_run;
    k->base.destroy = free_kernel;
    *out = &k->base;
    return OCT_OK;
}
