/* MatMul with numpy semantics: N-D operands are stacks of matrices whose
 * batch dimensions broadcast; a 1-D A is a row vector and a 1-D B a column
 * vector, and the added dimension is dropped from the result. */
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/ref_nn.h"

typedef struct mm_shape {
    int64_t m, n, k;
    int nb;                              /* batch rank of the output */
    int64_t bdims[OCT_MAX_DIMS];         /* output batch dims */
    int64_t astr[OCT_MAX_DIMS], bstr[OCT_MAX_DIMS]; /* matrix strides per batch dim, 0: broadcast */
    int ndim;
    int64_t dims[OCT_MAX_DIMS];          /* output shape */
} mm_shape;

static int mm_dtype_ok(oct_dtype dt) {
    return oct_nn_is_real(dt) || dt == OCT_INT32 || dt == OCT_INT64 || dt == OCT_UINT32 ||
           dt == OCT_UINT64;
}

static oct_status mm_check(const oct_opctx *c, mm_shape *s) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    const oct_tensor *a = c->in[0], *b = c->in[1];
    if (!mm_dtype_ok(a->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "input A has dtype %s", oct_dtype_name(a->dtype));
    if (b->dtype != a->dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "A is %s but B is %s", oct_dtype_name(a->dtype),
                           oct_dtype_name(b->dtype));
    if (a->ndim < 1 || b->ndim < 1) return oct_op_fail(c, OCT_E_SHAPE, "MatMul of a scalar");
    int an = a->ndim, bn = b->ndim;
    s->m = an == 1 ? 1 : a->dims[an - 2];
    s->k = a->dims[an - 1];
    int64_t kb = bn == 1 ? b->dims[0] : b->dims[bn - 2];
    s->n = bn == 1 ? 1 : b->dims[bn - 1];
    if (kb != s->k)
        return oct_op_fail(c, OCT_E_SHAPE, "inner dimensions differ: A has %lld, B has %lld",
                           (long long)s->k, (long long)kb);
    int abr = an > 2 ? an - 2 : 0, bbr = bn > 2 ? bn - 2 : 0;
    OCT_TRY(oct_broadcast_shape(c, abr, a->dims, bbr, b->dims, &s->nb, s->bdims));
    int64_t as = s->m * s->k, bs = s->k * s->n;
    for (int d = s->nb - 1; d >= 0; d--) {
        int ad = d - (s->nb - abr), bd = d - (s->nb - bbr);
        int64_t adim = ad >= 0 ? a->dims[ad] : 1, bdim = bd >= 0 ? b->dims[bd] : 1;
        s->astr[d] = adim == 1 ? 0 : as;
        s->bstr[d] = bdim == 1 ? 0 : bs;
        as *= adim;
        bs *= bdim;
    }
    s->ndim = s->nb;
    memcpy(s->dims, s->bdims, (size_t)s->nb * sizeof(int64_t));
    if (an > 1) s->dims[s->ndim++] = s->m;
    if (bn > 1) s->dims[s->ndim++] = s->n;
    if (s->ndim > OCT_MAX_DIMS) return oct_op_fail(c, OCT_E_SHAPE, "result rank too large");
    return OCT_OK;
}

static oct_status mm_infer(oct_opctx *c) {
    mm_shape s;
    OCT_TRY(mm_check(c, &s));
    if (c->out[0]) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, s.ndim, s.dims);
    return OCT_OK;
}

/* Runs BODY for every output matrix with aoff, boff, yoff (elements) set. */
#define MM_BATCH_LOOP(s, BODY)                                                  \
    do {                                                                        \
        int64_t nbatch = oct_shape_numel((s).nb, (s).bdims), idx_[OCT_MAX_DIMS] = {0}; \
        for (int64_t bi = 0; bi < nbatch; bi++) {                               \
            int64_t aoff = 0, boff = 0, yoff = bi * (s).m * (s).n;              \
            for (int d = 0; d < (s).nb; d++) {                                  \
                aoff += idx_[d] * (s).astr[d];                                  \
                boff += idx_[d] * (s).bstr[d];                                  \
            }                                                                   \
            BODY;                                                               \
            for (int d = (s).nb - 1; d >= 0; d--) {                             \
                if (++idx_[d] < (s).bdims[d]) break;                            \
                idx_[d] = 0;                                                    \
            }                                                                   \
        }                                                                       \
    } while (0)

static int64_t *load_i64(const oct_tensor *t) {
    int64_t n = oct_numel(t);
    int64_t *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (v)
        for (int64_t i = 0; i < n; i++) v[i] = oct_get_i64(t, i);
    return v;
}

static void store_i64(oct_tensor *t, const int64_t *v) {
    int64_t n = oct_numel(t);
    for (int64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case OCT_INT32: ((int32_t *)t->data)[i] = (int32_t)(uint32_t)(uint64_t)v[i]; break;
        case OCT_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)(uint64_t)v[i]; break;
        case OCT_UINT64: ((uint64_t *)t->data)[i] = (uint64_t)v[i]; break;
        default: ((int64_t *)t->data)[i] = v[i]; break;
        }
    }
}

static oct_status mm_run(oct_opctx *c) {
    mm_shape s;
    OCT_TRY(mm_check(c, &s));
    oct_tensor *y = c->out[0];
    if (!y) return OCT_OK;
    const oct_tensor *a = c->in[0], *b = c->in[1];
    oct_dtype dt = a->dtype;
    int ok = 1;
    if (dt == OCT_DOUBLE) {
        const double *av = a->data, *bv = b->data;
        double *yv = y->data;
        MM_BATCH_LOOP(s, oct_ref_matmul_f64(s.m, s.n, s.k, av + aoff, bv + boff, yv + yoff));
    } else if (oct_nn_is_real(dt)) {
        /* float16 / bfloat16 are staged in float, like a kernel computing in float */
        float *ta = dt == OCT_FLOAT ? NULL : oct_nn_load_f32(a);
        float *tb = dt == OCT_FLOAT ? NULL : oct_nn_load_f32(b);
        float *ty = dt == OCT_FLOAT ? NULL : malloc((size_t)(oct_numel(y) + 1) * sizeof(float));
        ok = dt == OCT_FLOAT || (ta && tb && ty);
        if (ok) {
            const float *av = ta ? ta : a->data, *bv = tb ? tb : b->data;
            float *yv = ty ? ty : y->data;
            MM_BATCH_LOOP(s, oct_ref_matmul_f32(s.m, s.n, s.k, av + aoff, bv + boff, yv + yoff));
            if (ty) oct_nn_store_f32(y, ty);
        }
        free(ta);
        free(tb);
        free(ty);
    } else {
        int64_t *ta = load_i64(a), *tb = load_i64(b);
        int64_t *ty = malloc((size_t)(oct_numel(y) + 1) * sizeof(int64_t));
        ok = ta && tb && ty;
        if (ok) {
            MM_BATCH_LOOP(s, oct_ref_matmul_i64(s.m, s.n, s.k, ta + aoff, tb + boff, ty + yoff));
            store_i64(y, ty);
        }
        free(ta);
        free(tb);
        free(ty);
    }
    return ok ? OCT_OK : oct_op_fail(c, OCT_E_NOMEM, "out of memory");
}

const oct_op_def oct_op_MatMul = {"", "MatMul", mm_infer, mm_run, 0};
