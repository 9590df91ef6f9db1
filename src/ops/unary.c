/* Unary element-wise ops: math functions, activations, IsNaN/IsInf, Not.
 * All share one inference (same shape; bool out for IsNaN/IsInf) and one
 * kernel table (kernels/ref/unary.c). */
#include <string.h>

#include "kernels/ref/ref_elementwise.h"
#include "ops/op.h"

/* Gelu picks its kernel from the `approximate` attribute. */
static oct_status resolve(const oct_opctx *c, oct_unary_op op, oct_unary_op *out) {
    *out = op;
    if (op == OCT_UN_GELU) {
        const char *a = oct_attr_str(c->node, "approximate", "none");
        if (!strcmp(a, "tanh"))
            *out = OCT_UN_GELU_TANH;
        else if (strcmp(a, "none"))
            return oct_op_fail(c, OCT_E_INVALID_ARG,
                               "attribute approximate = '%s', expected 'none' or 'tanh'", a);
    }
    return OCT_OK;
}

static oct_unary_params params(const oct_opctx *c, oct_unary_op op) {
    const oct_node *n = c->node;
    oct_unary_params p = {1.0f, 0.0f, 1.0f, 1, 1};
    switch (op) {
    case OCT_UN_CELU:
    case OCT_UN_ELU:
    case OCT_UN_THRESHOLDEDRELU: p.alpha = oct_attr_float(n, "alpha", 1.0f); break;
    case OCT_UN_LEAKYRELU: p.alpha = oct_attr_float(n, "alpha", 0.01f); break;
    case OCT_UN_SELU:
        p.alpha = oct_attr_float(n, "alpha", 1.67326319217681884765625f);
        p.gamma = oct_attr_float(n, "gamma", 1.05070102214813232421875f);
        break;
    case OCT_UN_HARDSIGMOID:
        p.alpha = oct_attr_float(n, "alpha", 0.2f);
        p.beta = oct_attr_float(n, "beta", 0.5f);
        break;
    case OCT_UN_SHRINK:
        p.alpha = oct_attr_float(n, "lambd", 0.5f);
        p.beta = oct_attr_float(n, "bias", 0.0f);
        break;
    case OCT_UN_ISINF:
        p.neg = oct_attr_int(n, "detect_negative", 1) != 0;
        p.pos = oct_attr_int(n, "detect_positive", 1) != 0;
        break;
    default: break;
    }
    return p;
}

static oct_status unary_infer(oct_opctx *c, oct_unary_op op0) {
    oct_unary_op op;
    OCT_TRY(resolve(c, op0, &op));
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (!oct_ref_unary_supports(op, x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED,
                           "input 0 has dtype %s, which this op does not take",
                           oct_dtype_name(x->dtype));
    if (op == OCT_UN_CELU && params(c, op).alpha == 0.0f)
        return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute alpha must not be 0");
    oct_tensor *y = oct_out(c, 0);
    if (y) oct_tensor_set_shape(y, oct_ref_unary_out_dtype(op, x->dtype), x->ndim, x->dims);
    return OCT_OK;
}

static oct_status unary_run(oct_opctx *c, oct_unary_op op0) {
    oct_unary_op op;
    OCT_TRY(resolve(c, op0, &op));
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    if (!oct_shape_equal(x, y) || y->dtype != oct_ref_unary_out_dtype(op, x->dtype))
        return oct_op_fail(c, OCT_E_SHAPE, "output does not match input 0's shape and dtype");
    oct_unary_params p = params(c, op);
    if (oct_ref_unary(op, &p, x, y) != OCT_OK)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    return OCT_OK;
}

#define DEF_UNARY(Name, OP)                                                                        \
    static oct_status infer_##Name(oct_opctx *c) { return unary_infer(c, OCT_UN_##OP); }           \
    static oct_status run_##Name(oct_opctx *c) { return unary_run(c, OCT_UN_##OP); }               \
    OCT_OP(Name);                                                                                  \
    const oct_op_def oct_op_##Name = {"", #Name, infer_##Name, run_##Name, 0};

DEF_UNARY(Abs, ABS)
DEF_UNARY(Acos, ACOS)
DEF_UNARY(Acosh, ACOSH)
DEF_UNARY(Asin, ASIN)
DEF_UNARY(Asinh, ASINH)
DEF_UNARY(Atan, ATAN)
DEF_UNARY(Atanh, ATANH)
DEF_UNARY(Ceil, CEIL)
DEF_UNARY(Cos, COS)
DEF_UNARY(Cosh, COSH)
DEF_UNARY(Erf, ERF)
DEF_UNARY(Exp, EXP)
DEF_UNARY(Floor, FLOOR)
DEF_UNARY(Log, LOG)
DEF_UNARY(Neg, NEG)
DEF_UNARY(Reciprocal, RECIPROCAL)
DEF_UNARY(Round, ROUND)
DEF_UNARY(Sign, SIGN)
DEF_UNARY(Sin, SIN)
DEF_UNARY(Sinh, SINH)
DEF_UNARY(Sqrt, SQRT)
DEF_UNARY(Tan, TAN)
DEF_UNARY(Tanh, TANH)
DEF_UNARY(Relu, RELU)
DEF_UNARY(Sigmoid, SIGMOID)
DEF_UNARY(Softplus, SOFTPLUS)
DEF_UNARY(Softsign, SOFTSIGN)
DEF_UNARY(Celu, CELU)
DEF_UNARY(Elu, ELU)
DEF_UNARY(Selu, SELU)
DEF_UNARY(LeakyRelu, LEAKYRELU)
DEF_UNARY(HardSigmoid, HARDSIGMOID)
DEF_UNARY(HardSwish, HARDSWISH)
DEF_UNARY(ThresholdedRelu, THRESHOLDEDRELU)
DEF_UNARY(Mish, MISH)
DEF_UNARY(Gelu, GELU)
DEF_UNARY(Shrink, SHRINK)
DEF_UNARY(IsNaN, ISNAN)
DEF_UNARY(IsInf, ISINF)
DEF_UNARY(Not, NOT)
