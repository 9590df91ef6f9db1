#include "kernels/ref/ref_data.h"
#include "ops/op.h"

/* perm from the attribute, reversed axes by default; checked to be a
 * permutation of 0..r-1. */
static oct_status transpose_perm(const oct_opctx *c, int *perm) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (!oct_dtype_size(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    int r = x->ndim;
    const int64_t *p;
    int64_t n = oct_attr_ints(c->node, "perm", &p);
    if (n < 0) {
        for (int i = 0; i < r; i++)
            perm[i] = r - 1 - i;
        return OCT_OK;
    }
    if (n != r)
        return oct_op_fail(c, OCT_E_SHAPE, "perm has %lld entries for rank %d", (long long)n, r);
    unsigned seen = 0;
    for (int i = 0; i < r; i++) {
        if (p[i] < 0 || p[i] >= r || (seen & (1u << p[i])))
            return oct_op_fail(c, OCT_E_SHAPE, "perm is not a permutation of 0..%d", r - 1);
        seen |= 1u << p[i];
        perm[i] = (int)p[i];
    }
    return OCT_OK;
}

static oct_status transpose_infer(oct_opctx *c) {
    int perm[OCT_MAX_DIMS] = {0};
    OCT_TRY(transpose_perm(c, perm));
    const oct_tensor *x = c->in[0];
    int64_t dims[OCT_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++)
        dims[i] = x->dims[perm[i]];
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], x->dtype, x->ndim, dims);
    return OCT_OK;
}

static oct_status transpose_run(oct_opctx *c) {
    int perm[OCT_MAX_DIMS] = {0};
    OCT_TRY(transpose_perm(c, perm));
    if (oct_out(c, 0)) oct_ref_transpose(c->in[0], perm, c->out[0]);
    return OCT_OK;
}

const oct_op_def oct_op_Transpose = {"", "Transpose", transpose_infer, transpose_run, 0};
