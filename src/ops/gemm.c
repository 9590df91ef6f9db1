/* Gemm: Y = alpha * op(A) op(B) + beta * C, A and B 2-D, C optional (from
 * opset 11) and unidirectionally broadcast to [M, N]. Opset < 7's
 * `broadcast` attribute is implied. */
#include <stdlib.h>

#include "kernels/ref/ref_nn.h"

typedef struct gemm_dims {
    int64_t m, n, k, cm, cn;
    int ta, tb;
} gemm_dims;

static oct_status gemm_check(const oct_opctx *c, gemm_dims *g) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    const oct_tensor *a = c->in[0], *b = c->in[1], *cc = oct_in(c, 2);
    if (!oct_nn_is_real(a->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "input A has dtype %s; only float dtypes",
                           oct_dtype_name(a->dtype));
    if (b->dtype != a->dtype || (cc && cc->dtype != a->dtype))
        return oct_op_fail(c, OCT_E_SHAPE, "A, B and C must share one dtype");
    if (!cc && c->opset < 11) return oct_op_fail(c, OCT_E_INVALID_ARG, "input C is required before opset 11");
    if (a->ndim != 2 || b->ndim != 2)
        return oct_op_fail(c, OCT_E_SHAPE, "A and B must be 2-D (ranks %d and %d)", a->ndim, b->ndim);
    g->ta = oct_attr_int(c->node, "transA", 0) != 0;
    g->tb = oct_attr_int(c->node, "transB", 0) != 0;
    g->m = a->dims[g->ta ? 1 : 0];
    g->k = a->dims[g->ta ? 0 : 1];
    g->n = b->dims[g->tb ? 0 : 1];
    int64_t kb = b->dims[g->tb ? 1 : 0];
    if (kb != g->k)
        return oct_op_fail(c, OCT_E_SHAPE, "inner dimensions differ: A gives %lld, B gives %lld",
                           (long long)g->k, (long long)kb);
    g->cm = g->cn = 1;
    if (cc) {
        if (cc->ndim > 2) return oct_op_fail(c, OCT_E_SHAPE, "C has rank %d (at most 2)", cc->ndim);
        g->cn = cc->ndim >= 1 ? cc->dims[cc->ndim - 1] : 1;
        g->cm = cc->ndim == 2 ? cc->dims[0] : 1;
        if ((g->cm != 1 && g->cm != g->m) || (g->cn != 1 && g->cn != g->n))
            return oct_op_fail(c, OCT_E_SHAPE, "C [%lld, %lld] does not broadcast to [%lld, %lld]",
                               (long long)g->cm, (long long)g->cn, (long long)g->m, (long long)g->n);
    }
    return OCT_OK;
}

static oct_status gemm_infer(oct_opctx *c) {
    gemm_dims g;
    OCT_TRY(gemm_check(c, &g));
    int64_t dims[2] = {g.m, g.n};
    if (c->out[0]) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, 2, dims);
    return OCT_OK;
}

static oct_status gemm_run(oct_opctx *c) {
    gemm_dims g;
    OCT_TRY(gemm_check(c, &g));
    if (!c->out[0]) return OCT_OK;
    const oct_tensor *cc = oct_in(c, 2);
    double *a = oct_nn_load_f64(c->in[0]), *b = oct_nn_load_f64(c->in[1]);
    double *cv = cc ? oct_nn_load_f64(cc) : NULL;
    double *y = malloc((size_t)(g.m * g.n > 0 ? g.m * g.n : 1) * sizeof *y);
    int ok = a && b && y && (!cc || cv);
    if (ok) {
        oct_ref_gemm(g.m, g.n, g.k, g.ta, g.tb, oct_attr_float(c->node, "alpha", 1.0f), a, b,
                     oct_attr_float(c->node, "beta", 1.0f), cv, g.cm, g.cn, y);
        oct_nn_store_f64(c->out[0], y);
    }
    free(a);
    free(b);
    free(cv);
    free(y);
    return ok ? OCT_OK : oct_op_fail(c, OCT_E_NOMEM, "out of memory");
}

const oct_op_def oct_op_Gemm = {"", "Gemm", gemm_infer, gemm_run, 0};
