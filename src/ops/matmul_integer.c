/* MatMulInteger (int32 output) and QLinearMatMul (requantized to 8 bits):
 * numpy matmul of uint8/int8 operands with batch broadcasting. Zero points
 * and scales of A (and Y) are per tensor or per row; those of B per tensor,
 * per column, or per batch matrix and column ([..., 1, N]). */
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/ref_quant.h"

static int is_q8(oct_dtype dt) { return dt == OCT_UINT8 || dt == OCT_INT8; }

oct_status oct_qmatmul_params_get(const oct_opctx *c, const oct_tensor *a, const oct_tensor *b,
                                  oct_qmatmul_params *p) {
    if (!is_q8(a->dtype) || !is_q8(b->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "A is %s and B %s; only uint8 and int8",
                           oct_dtype_name(a->dtype), oct_dtype_name(b->dtype));
    if (a->ndim < 1 || b->ndim < 1)
        return oct_op_fail(c, OCT_E_SHAPE, "operands must have rank >= 1");
    int ra = a->ndim, rb = b->ndim;
    p->m = ra == 1 ? 1 : a->dims[ra - 2];
    p->k = a->dims[ra - 1];
    int64_t kb = rb == 1 ? b->dims[0] : b->dims[rb - 2];
    p->n = rb == 1 ? 1 : b->dims[rb - 1];
    if (kb != p->k)
        return oct_op_fail(c, OCT_E_SHAPE, "A has %lld columns, B %lld rows", (long long)p->k,
                           (long long)kb);
    int na = ra > 2 ? ra - 2 : 0, nb = rb > 2 ? rb - 2 : 0;
    OCT_TRY(oct_broadcast_shape(c, na, a->dims, nb, b->dims, &p->batch_ndim, p->batch));
    /* batch strides in matrices, right-aligned, 0 where an operand broadcasts */
    int64_t sa = 1, sb = 1;
    p->n_batch = 1;
    for (int d = p->batch_ndim - 1; d >= 0; d--) {
        int ia = d - (p->batch_ndim - na), ib = d - (p->batch_ndim - nb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        p->a_bstride[d] = da == 1 ? 0 : sa;
        p->b_bstride[d] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
        p->n_batch *= p->batch[d];
    }
    p->out_ndim = 0;
    for (int d = 0; d < p->batch_ndim; d++)
        p->out_dims[p->out_ndim++] = p->batch[d];
    if (ra > 1) p->out_dims[p->out_ndim++] = p->m;
    if (rb > 1) p->out_dims[p->out_ndim++] = p->n;
    if (p->out_ndim > OCT_MAX_DIMS) return oct_op_fail(c, OCT_E_SHAPE, "output rank too large");
    return OCT_OK;
}

void oct_qmatmul_batch_offsets(const oct_qmatmul_params *p, int64_t bi, int64_t *a_off,
                               int64_t *b_off) {
    int64_t ao = 0, bo = 0;
    for (int d = p->batch_ndim - 1; d >= 0; d--) {
        int64_t i = bi % p->batch[d];
        bi /= p->batch[d];
        ao += i * p->a_bstride[d];
        bo += i * p->b_bstride[d];
    }
    *a_off = ao;
    *b_off = bo;
}

/* A quantization parameter: per tensor, per row or column (len values), or
 * per B matrix and column (one row of len per matrix). */
typedef struct qparam {
    double *v;
    int mode; /* 0 tensor, 1 per row / column, 2 per B matrix and column */
    int64_t len;
} qparam;

static double qval(const qparam *q, int64_t mat, int64_t j) {
    return q->mode == 0 ? q->v[0] : q->mode == 1 ? q->v[j] : q->v[mat * q->len + j];
}

/* Reads input i (def when absent) as a parameter along rows of A (bmat NULL,
 * len = M) or along columns of B (bmat = B, len = N). dt: the dtype input i
 * must have, OCT_UNDEFINED for a float type. v == NULL: shape check only. */
static oct_status read_param(const oct_opctx *c, int i, const oct_tensor *bmat, int64_t len,
                             oct_dtype dt, double def, qparam *q, int want_values) {
    const oct_tensor *t = oct_in(c, i);
    q->v = NULL;
    q->mode = 0;
    q->len = len;
    if (t && (dt != OCT_UNDEFINED ? t->dtype != dt : !oct_nn_is_real(t->dtype)))
        return oct_op_fail(c, OCT_E_SHAPE, "input %d has dtype %s, expected %s", i,
                           oct_dtype_name(t->dtype),
                           dt != OCT_UNDEFINED ? oct_dtype_name(dt) : "a float type");
    int64_t k = t ? oct_numel(t) : 1;
    if (k == 1) {
        q->mode = 0;
    } else if (t->ndim == 1 && t->dims[0] == len) {
        q->mode = 1;
    } else {
        int ok = bmat && bmat->ndim >= 2 && t->ndim == bmat->ndim && t->dims[t->ndim - 2] == 1 &&
                 t->dims[t->ndim - 1] == len;
        for (int d = 0; ok && d < t->ndim - 2; d++)
            ok = t->dims[d] == bmat->dims[d];
        if (!ok)
            return oct_op_fail(c, OCT_E_SHAPE, "input %d must be a scalar or 1-D of %lld%s", i,
                               (long long)len, bmat ? " or [..., 1, N] matching B" : "");
        q->mode = 2;
    }
    if (!want_values) return OCT_OK;
    q->v = malloc((size_t)k * sizeof *q->v);
    if (!q->v) return oct_op_fail(c, OCT_E_NOMEM, "out of memory");
    for (int64_t j = 0; j < k; j++)
        q->v[j] = t ? oct_get_f64(t, j) : def;
    return OCT_OK;
}

/* Runs the integer product of every batch; per batch, done(ctx, batch,
 * b matrix index, acc) consumes the M x N accumulators. */
typedef oct_status (*batch_fn)(const oct_opctx *c, const oct_qmatmul_params *p, int64_t bi,
                               int64_t bmat, const int32_t *acc, void *ctx);

static oct_status run_batches(const oct_opctx *c, const oct_qmatmul_params *p, const oct_tensor *a,
                              const oct_tensor *b, const qparam *az, const qparam *bz,
                              batch_fn done, void *ctx) {
    int32_t *azv = malloc((size_t)p->m * sizeof *azv + 1),
            *bzv = malloc((size_t)p->n * sizeof *bzv + 1);
    int32_t *acc = malloc((size_t)(p->m * p->n) * sizeof *acc + 1);
    oct_status st = OCT_OK;
    if (!azv || !bzv || !acc) st = oct_op_fail(c, OCT_E_NOMEM, "out of memory");
    for (int64_t m = 0; !st && m < p->m; m++)
        azv[m] = (int32_t)qval(az, 0, m);
    for (int64_t bi = 0; !st && bi < p->n_batch; bi++) {
        int64_t ao, bo;
        oct_qmatmul_batch_offsets(p, bi, &ao, &bo);
        for (int64_t n = 0; n < p->n; n++)
            bzv[n] = (int32_t)qval(bz, bo, n);
        st = oct_ref_matmul_integer(p->m, p->n, p->k, a->data, a->dtype, ao * p->m * p->k, azv,
                                    b->data, b->dtype, bo * p->k * p->n, bzv, acc);
        if (st)
            oct_op_fail(c, st, "out of memory");
        else
            st = done(c, p, bi, bo, acc, ctx);
    }
    free(azv);
    free(bzv);
    free(acc);
    return st;
}

/* ---- MatMulInteger: A, B, a_zero_point, b_zero_point ---- */

static oct_status mmint_check(oct_opctx *c, oct_qmatmul_params *p, qparam *az, qparam *bz,
                              int values) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    OCT_TRY(oct_qmatmul_params_get(c, c->in[0], c->in[1], p));
    OCT_TRY(read_param(c, 2, NULL, p->m, c->in[0]->dtype, 0, az, values));
    oct_status st = read_param(c, 3, c->in[1], p->n, c->in[1]->dtype, 0, bz, values);
    if (st) free(az->v);
    return st;
}

static oct_status mmint_infer(oct_opctx *c) {
    oct_qmatmul_params p;
    qparam az, bz;
    OCT_TRY(mmint_check(c, &p, &az, &bz, 0));
    if (c->out[0]) oct_tensor_set_shape(c->out[0], OCT_INT32, p.out_ndim, p.out_dims);
    return OCT_OK;
}

static oct_status mmint_store(const oct_opctx *c, const oct_qmatmul_params *p, int64_t bi,
                              int64_t bmat, const int32_t *acc, void *ctx) {
    (void)c;
    (void)bmat;
    int32_t *y = (int32_t *)ctx + bi * p->m * p->n;
    for (int64_t i = 0; i < p->m * p->n; i++)
        y[i] = acc[i];
    return OCT_OK;
}

static oct_status mmint_run(oct_opctx *c) {
    oct_qmatmul_params p;
    qparam az, bz;
    OCT_TRY(mmint_check(c, &p, &az, &bz, 1));
    oct_status st = OCT_OK;
    if (c->out[0])
        st = run_batches(c, &p, c->in[0], c->in[1], &az, &bz, mmint_store, c->out[0]->data);
    free(az.v);
    free(bz.v);
    return st;
}

/* ---- QLinearMatMul: a, a_scale, a_zero_point, b, b_scale, b_zero_point,
 * y_scale, y_zero_point ---- */

typedef struct qmm {
    qparam as, az, bs, bz, ys, yz;
} qmm;

static void qmm_free(qmm *q) {
    free(q->as.v);
    free(q->az.v);
    free(q->bs.v);
    free(q->bz.v);
    free(q->ys.v);
    free(q->yz.v);
}

static oct_status qmm_check(oct_opctx *c, oct_qmatmul_params *p, qmm *q, int values) {
    for (int i = 0; i < 8; i++)
        if (i != 2 && i != 5 && i != 7) OCT_TRY(oct_op_need_input(c, i, OCT_UNDEFINED));
    const oct_tensor *a = c->in[0], *b = c->in[3], *yz = oct_in(c, 7);
    OCT_TRY(oct_qmatmul_params_get(c, a, b, p));
    oct_dtype yt = yz ? yz->dtype : a->dtype;
    if (!is_q8(yt)) return oct_op_fail(c, OCT_E_UNSUPPORTED, "output dtype %s", oct_dtype_name(yt));
    memset(q, 0, sizeof *q);
    oct_status st;
    if ((st = read_param(c, 1, NULL, p->m, OCT_UNDEFINED, 1, &q->as, values)) ||
        (st = read_param(c, 2, NULL, p->m, a->dtype, 0, &q->az, values)) ||
        (st = read_param(c, 4, b, p->n, OCT_UNDEFINED, 1, &q->bs, values)) ||
        (st = read_param(c, 5, b, p->n, b->dtype, 0, &q->bz, values)) ||
        (st = read_param(c, 6, NULL, p->m, OCT_UNDEFINED, 1, &q->ys, values)) ||
        (st = read_param(c, 7, NULL, p->m, yt, 0, &q->yz, values)))
        qmm_free(q);
    return st;
}

static oct_status qmm_infer(oct_opctx *c) {
    oct_qmatmul_params p;
    qmm q;
    OCT_TRY(qmm_check(c, &p, &q, 0));
    const oct_tensor *yz = oct_in(c, 7);
    if (c->out[0])
        oct_tensor_set_shape(c->out[0], yz ? yz->dtype : c->in[0]->dtype, p.out_ndim, p.out_dims);
    return OCT_OK;
}

typedef struct qmm_ctx {
    const qmm *q;
    oct_tensor *y;
} qmm_ctx;

static oct_status qmm_store(const oct_opctx *c, const oct_qmatmul_params *p, int64_t bi,
                            int64_t bmat, const int32_t *acc, void *ctx) {
    (void)c;
    const qmm_ctx *x = ctx;
    const qmm *q = x->q;
    int32_t lo, hi;
    oct_q_range(x->y->dtype, &lo, &hi);
    int64_t base = bi * p->m * p->n;
    for (int64_t m = 0; m < p->m; m++) {
        float as = (float)qval(&q->as, 0, m), ys = (float)qval(&q->ys, 0, m);
        int32_t yz = (int32_t)qval(&q->yz, 0, m);
        for (int64_t n = 0; n < p->n; n++) {
            /* ONNX Runtime's order: (a_scale * b_scale) / y_scale, in float */
            float scale = as * (float)qval(&q->bs, bmat, n) / ys;
            oct_q_set(x->y->data, x->y->dtype, base + m * p->n + n,
                      oct_q_requant(acc[m * p->n + n], scale, yz, lo, hi));
        }
    }
    return OCT_OK;
}

static oct_status qmm_run(oct_opctx *c) {
    oct_qmatmul_params p;
    qmm q;
    OCT_TRY(qmm_check(c, &p, &q, 1));
    oct_status st = OCT_OK;
    if (c->out[0]) {
        qmm_ctx x = {&q, c->out[0]};
        st = run_batches(c, &p, c->in[0], c->in[3], &q.az, &q.bz, qmm_store, &x);
    }
    qmm_free(&q);
    return st;
}

const oct_op_def oct_op_MatMulInteger = {"", "MatMulInteger", mmint_infer, mmint_run, 0};
const oct_op_def oct_op_QLinearMatMul = {"", "QLinearMatMul", qmm_infer, qmm_run, 0};
