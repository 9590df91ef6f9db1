/* Fake quantization in one pass for Q/DQ models. ONNX Runtime's quantizer
 * puts a QuantizeLinear -> DequantizeLinear pair on every activation; run
 * as two element-wise steps, each pair writes and rereads an 8-bit tensor
 * and a float one. Here a pair becomes one loop that writes the
 * DequantizeLinear's float output, and the SiLU of a Q/DQ model (three
 * pairs around a Sigmoid and a Mul, eight nodes) one pass over its input.
 *
 * Results are bit-exact with the unfused steps: the pair is arith.h's
 * oct_fake_quant_zp (the reference's arithmetic, see there), the Sigmoid
 * the eltwise kernel's oct_sigmoidf, the Mul a float product. Element-wise,
 * so the layout is whatever the input has (plain or channels-last). */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernels.h"
#include "core/arith.h"
#include "runtime/exec.h"

/* One fake quantization: x -> clamp(round(x / s), lo, hi) * s, where lo and
 * hi are the codes' range minus the zero point z. */
typedef struct {
    float s, lo, hi, z;
} fq_params;

typedef struct {
    oct_kernel base;
    int silu;
    fq_params fq[3];     /* the pair; or the block's input, sigmoid and output pairs */
    float silu_out[256]; /* the block's output for each code of its input pair */
} qdq_kernel;

typedef struct {
    const qdq_kernel *k;
    const float *x;
    float *y;
} qdq_job;

/* The loops take restrict pointers and the parameters by value so that gcc
 * vectorizes them (arith.h's helpers are branch-free). */
static void fq_loop(const float *restrict x, float *restrict y, int64_t n, fq_params p) {
    for (int64_t i = 0; i < n; i++)
        y[i] = oct_fake_quant_zp(x[i], p.s, p.lo, p.hi, p.z);
}
static void sigmoid_fq_loop(const float *restrict x, float *restrict y, int64_t n, fq_params p) {
    for (int64_t i = 0; i < n; i++)
        y[i] = oct_fake_quant_zp(oct_sigmoidf(x[i]), p.s, p.lo, p.hi, p.z);
}
static void mul_fq_loop(const float *restrict a, const float *restrict b, float *restrict y,
                        int64_t n, fq_params p) {
    for (int64_t i = 0; i < n; i++)
        y[i] = oct_fake_quant_zp(a[i] * b[i], p.s, p.lo, p.hi, p.z);
}

static void pair_chunk(void *ctx, int64_t b, int64_t e) {
    const qdq_job *j = ctx;
    fq_loop(j->x + b, j->y + b, e - b, j->k->fq[0]);
}

/* The block's output depends on its input only through the input pair's
 * code, one of 256, so the kernel computes it once per code (silu_table)
 * and per element only finds the code. Computing the whole block per
 * element measured 3 to 4 times slower on yolov10n: four divisions and the
 * sigmoid's polynomial, where this is one division and a load. */
static void code_loop(const float *restrict x, int32_t *restrict code, int64_t n, fq_params p) {
    for (int64_t i = 0; i < n; i++)
        code[i] = (int32_t)(oct_fake_quant_code(x[i] / p.s, p.lo, p.hi, p.z) - p.lo);
}

enum { SILU_BLOCK = 256 };

static void silu_chunk(void *ctx, int64_t b, int64_t e) {
    const qdq_job *j = ctx;
    const float *restrict out = j->k->silu_out;
    float *restrict y = j->y;
    int32_t code[SILU_BLOCK];
    for (int64_t i = b; i < e; i += SILU_BLOCK) {
        int64_t n = e - i < SILU_BLOCK ? e - i : SILU_BLOCK;
        /* (two loops: the first vectorizes, a gather would stop it) */
        code_loop(j->x + i, code, n, j->k->fq[0]);
        for (int64_t t = 0; t < n; t++)
            y[i + t] = out[code[t]];
    }
}

/* a = fq1(x) is code * s1 exactly as oct_fake_quant_zp computes it, for
 * code = lo1 + c (c = 0..255, the index code_loop gives); the other two
 * stages run through the same loops as on tensors, so each entry is
 * bit-identical to the unfused steps. */
static void silu_table(qdq_kernel *k) {
    const fq_params *p = k->fq;
    float a[256], sg[256];
    for (int c = 0; c < 256; c++)
        a[c] = (p[0].lo + (float)c) * p[0].s;
    sigmoid_fq_loop(a, sg, 256, p[1]);
    mul_fq_loop(a, sg, k->silu_out, 256, p[2]);
}

static oct_status qdq_run(oct_kernel *kb, oct_exec *x, oct_error *err) {
    (void)err;
    const qdq_kernel *k = (const qdq_kernel *)kb;
    oct_tensor *y = oct_exec_tensor(x, kb->out_values[0]);
    OCT_TRY(oct_exec_prepare_output(y, 0));
    qdq_job j = {k, oct_exec_tensor(x, kb->in_values[0])->data, y->data};
    oct_parallel_for(x->pool, oct_numel(y), 16384, k->silu ? silu_chunk : pair_chunk, &j);
    return OCT_OK;
}

static void qdq_destroy(oct_kernel *k) { free(k); }

static int kept(const oct_exec *x, int v) {
    return x->g->values[v].is_output || (x->keep && v < x->keep_n && x->keep[v]);
}

/* The single consumer of an intermediate value the kernel would absorb, or
 * -1 (none, several, or it must be materialised). */
static int sole_consumer(const oct_exec *x, int v) {
    if (kept(x, v)) return -1;
    int c;
    return oct_exec_consumers(x, v, &c) == 1 ? c : -1;
}

static int plain_node(const oct_node *n, const char *op, int n_in) {
    return !n->dead && !n->dynamic && !n->domain[0] && !strcmp(n->op_type, op) && n->n_in >= n_in &&
           n->in[0] >= 0 && n->n_out == 1 && n->out[0] >= 0;
}

/* The constant per-tensor scale and zero point of a QuantizeLinear or
 * DequantizeLinear node whose 8-bit side has dtype qt; 0 when they are not
 * (the reference also requires the zero point's rank to be the scale's). */
static int qparams(const oct_graph *g, const oct_node *n, oct_dtype qt, float *s, int32_t *z) {
    if (n->n_in < 2 || n->in[1] < 0) return 0;
    if (n->opset >= 21 && oct_attr_int(n, "block_size", 0)) return 0;
    const oct_value *sv = &g->values[n->in[1]];
    if (!sv->is_const || sv->t.dtype != OCT_FLOAT || oct_numel(&sv->t) != 1) return 0;
    *s = (float)oct_get_f64(&sv->t, 0);
    *z = 0;
    if (n->n_in > 2 && n->in[2] >= 0) {
        const oct_value *zv = &g->values[n->in[2]];
        if (!zv->is_const || zv->t.dtype != qt || oct_numel(&zv->t) != 1 ||
            zv->t.ndim != sv->t.ndim)
            return 0;
        *z = (int32_t)oct_get_i64(&zv->t, 0);
    }
    return 1;
}

/* Node q is a float -> 8-bit QuantizeLinear whose code only feeds a
 * DequantizeLinear back to float with the same scale and zero point (equal
 * values: exporters often give each node its own constants). Returns that
 * node and fills *p, or -1. */
static int match_pair(const oct_exec *x, int q, fq_params *p) {
    const oct_graph *g = x->g;
    const oct_node *qn = &g->nodes[q];
    if (!plain_node(qn, "QuantizeLinear", 2)) return -1;
    if (g->values[qn->in[0]].t.dtype != OCT_FLOAT) return -1;
    oct_dtype qt = g->values[qn->out[0]].t.dtype;
    if (qt != OCT_INT8 && qt != OCT_UINT8) return -1;
    float s1, s2;
    int32_t z1, z2;
    if (!qparams(g, qn, qt, &s1, &z1)) return -1;
    int d = sole_consumer(x, qn->out[0]);
    if (d < 0) return -1;
    const oct_node *dn = &g->nodes[d];
    if (!plain_node(dn, "DequantizeLinear", 2) || dn->in[0] != qn->out[0]) return -1;
    if (g->values[dn->out[0]].t.dtype != OCT_FLOAT || !qparams(g, dn, qt, &s2, &z2)) return -1;
    if (!(s1 == s2) || z1 != z2) return -1;
    int32_t lo = qt == OCT_INT8 ? -128 : 0, hi = qt == OCT_INT8 ? 127 : 255;
    /* the reference's QuantizeLinear bounds (kernels/ref/quantize_linear.c) */
    p->s = s1;
    p->z = (float)z1;
    p->lo = (float)lo - p->z;
    p->hi = (float)hi - p->z;
    return d;
}

/* The Q/DQ SiLU after the pair q -> d1: A = d1's output feeds exactly
 * Sigmoid(A) and Mul(A, S), S = DQ(Q(Sigmoid(A))), and Mul's output goes
 * through a third pair. Fills the block's other six nodes (Sigmoid, Q, DQ,
 * Mul, Q, DQ) and the second and third pairs; 0 when the pattern differs. */
static int match_silu(const oct_exec *x, int d1, int nodes[6], fq_params p[2]) {
    const oct_graph *g = x->g;
    int a = g->nodes[d1].out[0];
    if (kept(x, a) || oct_exec_consumers(x, a, NULL) != 2) return 0;
    int sig = -1, mul = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const oct_node *m = &g->nodes[i];
        if (m->dead) continue;
        int uses = 0;
        for (int j = 0; j < m->n_in; j++)
            uses |= m->in[j] == a;
        if (!uses) continue;
        if (plain_node(m, "Sigmoid", 1) && m->n_in == 1)
            sig = i;
        else if (plain_node(m, "Mul", 2) && m->n_in == 2)
            mul = i;
    }
    if (sig < 0 || mul < 0) return 0;
    const oct_node *sn = &g->nodes[sig], *mn = &g->nodes[mul];
    if (g->values[sn->out[0]].t.dtype != OCT_FLOAT) return 0;
    int q2 = sole_consumer(x, sn->out[0]);
    int d2 = q2 >= 0 ? match_pair(x, q2, &p[0]) : -1;
    if (d2 < 0 || g->nodes[q2].in[0] != sn->out[0]) return 0;
    int s = g->nodes[d2].out[0];
    if (sole_consumer(x, s) != mul) return 0;
    if (!((mn->in[0] == a && mn->in[1] == s) || (mn->in[0] == s && mn->in[1] == a))) return 0;
    const oct_value *mv = &g->values[mn->out[0]];
    if (mv->t.dtype != OCT_FLOAT || !oct_shape_equal(&mv->t, &g->values[a].t)) return 0;
    int q3 = sole_consumer(x, mn->out[0]);
    int d3 = q3 >= 0 ? match_pair(x, q3, &p[1]) : -1;
    if (d3 < 0 || g->nodes[q3].in[0] != mn->out[0]) return 0;
    int list[6] = {sig, q2, d2, mul, q3, d3};
    memcpy(nodes, list, sizeof list);
    return 1;
}

oct_status oct_cpu_qdq_create(oct_exec *x, int node, oct_kernel **out, oct_error *err) {
    *out = NULL;
    fq_params fq[3];
    int d1 = match_pair(x, node, &fq[0]);
    if (d1 < 0) return oct_cpu_eltwise_create(x, node, out, err);
    qdq_kernel *k = calloc(1, sizeof *k);
    if (!k) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    const oct_graph *g = x->g;
    int in = g->nodes[node].in[0];
    int rest[6];
    k->silu = match_silu(x, d1, rest, &fq[1]);
    memcpy(k->fq, fq, sizeof fq);
    if (k->silu) silu_table(k);
    k->base.impl = k->silu ? "cpu:qdq-silu" : "cpu:qdq";
    k->base.node = node;
    k->base.absorbed[k->base.n_absorbed++] = d1;
    for (int i = 0; k->silu && i < 6; i++)
        k->base.absorbed[k->base.n_absorbed++] = rest[i];
    k->base.n_in = 1;
    k->base.in_values[0] = in;
    /* element-wise: the output takes the input's layout, so no reorder */
    k->base.in_accept[0] = OCT_ACCEPT_PLAIN | OCT_ACCEPT_NHWC;
    k->base.n_out = 1;
    k->base.out_values[0] = g->nodes[k->base.absorbed[k->base.n_absorbed - 1]].out[0];
    k->base.out_layout[0] = x->layout[in];
    k->base.run = qdq_run;
    k->base.destroy = qdq_destroy;
    *out = &k->base;
    return OCT_OK;
}
