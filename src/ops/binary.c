/* Binary element-wise ops with numpy multidirectional broadcasting:
 * Add Sub Mul Div Pow Mod PRelu, the comparisons (bool out) and And/Or/Xor.
 *
 * Before opset 7 the arithmetic and logic ops broadcast only when the
 * `broadcast` attribute is set, and then align B with A starting at `axis`
 * (B = [3] against A = [2,3,4,5] with axis=1 means [1,3,1,1]); that is
 * rewritten into a numpy-compatible shape for B. PRelu's slope broadcasts
 * to X only (unidirectionally); before opset 7 a 1-D slope is per channel. */
#include "kernels/ref/ref_elementwise.h"
#include "ops/op.h"

static int is_compare(oct_binary_op op) { return op >= OCT_BIN_EQUAL && op <= OCT_BIN_LESS_EQUAL; }

/* B's shape as seen by numpy broadcasting (legacy axis alignment applied). */
static oct_status b_shape(const oct_opctx *c, oct_binary_op op, oct_tensor *b) {
    const oct_tensor *a = c->in[0];
    *b = *c->in[1];
    if (c->opset >= 7) return OCT_OK;
    if (op == OCT_BIN_PRELU) {
        /* PRelu-6: a 1-D slope holds one value per channel (axis 1) */
        if (b->ndim == 1 && b->dims[0] > 1 && a->ndim >= 2 && b->dims[0] == a->dims[1]) {
            b->ndim = a->ndim - 1;
            for (int d = 1; d < b->ndim; d++)
                b->dims[d] = 1;
        }
        return OCT_OK;
    }
    if (!oct_attr_int(c->node, "broadcast", 0)) return OCT_OK;
    int64_t axis = oct_attr_int(c->node, "axis", a->ndim - b->ndim);
    if (axis < 0) axis += a->ndim;
    if (axis < 0 || axis + b->ndim > a->ndim)
        return oct_op_fail(c, OCT_E_SHAPE,
                           "attribute axis = %lld does not fit input 1 (rank %d) "
                           "into input 0 (rank %d)",
                           (long long)oct_attr_int(c->node, "axis", 0), b->ndim, a->ndim);
    int nb = a->ndim - (int)axis;
    for (int d = b->ndim; d < nb; d++)
        b->dims[d] = 1;
    b->ndim = nb;
    return OCT_OK;
}

static oct_status binary_shape(oct_opctx *c, oct_binary_op op, oct_tensor *b, oct_dtype *dt,
                               int *nd, int64_t *dims) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
    const oct_tensor *a = c->in[0];
    OCT_TRY(b_shape(c, op, b));
    if (op != OCT_BIN_POW && a->dtype != b->dtype)
        return oct_op_fail(c, OCT_E_SHAPE, "input 1 has dtype %s, expected %s like input 0",
                           oct_dtype_name(b->dtype), oct_dtype_name(a->dtype));
    if (!oct_ref_binary_supports(op, a->dtype, b->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtypes %s and %s are not supported",
                           oct_dtype_name(a->dtype), oct_dtype_name(b->dtype));
    OCT_TRY(oct_broadcast_shape(c, a->ndim, a->dims, b->ndim, b->dims, nd, dims));
    if (op == OCT_BIN_PRELU) {
        oct_tensor want = *a;
        want.ndim = *nd;
        for (int d = 0; d < *nd; d++)
            want.dims[d] = dims[d];
        if (!oct_shape_equal(a, &want))
            return oct_op_fail(c, OCT_E_SHAPE, "slope (input 1) must broadcast to X's shape");
    }
    *dt = is_compare(op) || op >= OCT_BIN_AND ? OCT_BOOL : a->dtype;
    return OCT_OK;
}

static oct_status binary_infer(oct_opctx *c, oct_binary_op op) {
    oct_tensor b;
    oct_dtype dt;
    int nd;
    int64_t dims[OCT_MAX_DIMS];
    OCT_TRY(binary_shape(c, op, &b, &dt, &nd, dims));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], dt, nd, dims);
    return OCT_OK;
}

static oct_status binary_run(oct_opctx *c, oct_binary_op op) {
    oct_tensor b, want = {0};
    oct_dtype dt;
    int nd;
    int64_t dims[OCT_MAX_DIMS];
    OCT_TRY(binary_shape(c, op, &b, &dt, &nd, dims));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    oct_tensor_set_shape(&want, dt, nd, dims);
    if (!oct_shape_equal(y, &want) || y->dtype != dt)
        return oct_op_fail(c, OCT_E_SHAPE, "output shape or dtype does not match the inputs");
    if (op == OCT_BIN_MOD && oct_attr_int(c->node, "fmod", 0)) op = OCT_BIN_FMOD;
    if (oct_ref_binary(op, c->in[0], &b, y) != OCT_OK)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtypes %s and %s are not supported",
                           oct_dtype_name(c->in[0]->dtype), oct_dtype_name(b.dtype));
    return OCT_OK;
}

#define DEF_BINARY(Name, OP)                                                                       \
    static oct_status infer_##Name(oct_opctx *c) { return binary_infer(c, OCT_BIN_##OP); }         \
    static oct_status run_##Name(oct_opctx *c) { return binary_run(c, OCT_BIN_##OP); }             \
    OCT_OP(Name);                                                                                  \
    const oct_op_def oct_op_##Name = {"", #Name, infer_##Name, run_##Name, 0};

DEF_BINARY(Add, ADD)
DEF_BINARY(Sub, SUB)
DEF_BINARY(Mul, MUL)
DEF_BINARY(Div, DIV)
DEF_BINARY(Pow, POW)
DEF_BINARY(Mod, MOD)
DEF_BINARY(PRelu, PRELU)
DEF_BINARY(Equal, EQUAL)
DEF_BINARY(Greater, GREATER)
DEF_BINARY(Less, LESS)
DEF_BINARY(GreaterOrEqual, GREATER_EQUAL)
DEF_BINARY(LessOrEqual, LESS_EQUAL)
DEF_BINARY(And, AND)
DEF_BINARY(Or, OR)
DEF_BINARY(Xor, XOR)
