/* Cast (target dtype from the `to` attribute) and CastLike (target dtype
 * from input 1). Strings, float8 and 4-bit types are not supported; the
 * opset-19 `saturate` attribute only concerns float8 and is ignored. */
#include <string.h>

#include "kernels/ref/ref_elementwise.h"
#include "ops/op.h"

/* Cast-1 names the target type with a string. */
static int64_t dtype_code(const char *s) {
    static const char *const names[] = {"UNDEFINED",  "FLOAT",   "UINT8",  "INT8",   "UINT16",
                                        "INT16",      "INT32",   "INT64",  "STRING", "BOOL",
                                        "FLOAT16",    "DOUBLE",  "UINT32", "UINT64", "COMPLEX64",
                                        "COMPLEX128", "BFLOAT16"};
    for (size_t i = 1; i < sizeof names / sizeof names[0]; i++)
        if (s && !strcmp(s, names[i])) return (int64_t)i;
    return 0;
}

static oct_status cast_target(oct_opctx *c, int like, oct_dtype *to) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    if (like) {
        OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
        *to = c->in[1]->dtype;
    } else {
        const oct_attr *a = oct_attr_find(c->node, "to");
        if (!a || (a->type != OCT_ATTR_INT && a->type != OCT_ATTR_STRING))
            return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute 'to' is required");
        int64_t code = a->type == OCT_ATTR_INT ? a->i : dtype_code(a->s);
        /* dtype codes octet does not know (float8, int4, complex) have size 0 */
        if (code <= 0 || code > OCT_BFLOAT16 || !oct_dtype_size((oct_dtype)code))
            return oct_op_fail(c, OCT_E_UNSUPPORTED, "cast to ONNX dtype %lld is not supported",
                               (long long)code);
        *to = (oct_dtype)code;
    }
    if (!oct_ref_cast_supports(c->in[0]->dtype, *to))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "cast from %s to %s is not supported",
                           oct_dtype_name(c->in[0]->dtype), oct_dtype_name(*to));
    return OCT_OK;
}

static oct_status cast_infer_impl(oct_opctx *c, int like) {
    oct_dtype to = OCT_UNDEFINED;
    OCT_TRY(cast_target(c, like, &to));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], to, c->in[0]->ndim, c->in[0]->dims);
    return OCT_OK;
}

static oct_status cast_run_impl(oct_opctx *c, int like) {
    oct_dtype to = OCT_UNDEFINED;
    OCT_TRY(cast_target(c, like, &to));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    if (!oct_shape_equal(c->in[0], y) || y->dtype != to)
        return oct_op_fail(c, OCT_E_SHAPE, "output does not match input 0's shape");
    if (oct_ref_cast(c->in[0], y) != OCT_OK)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "cast from %s to %s is not supported",
                           oct_dtype_name(c->in[0]->dtype), oct_dtype_name(to));
    return OCT_OK;
}

static oct_status cast_infer(oct_opctx *c) { return cast_infer_impl(c, 0); }
static oct_status cast_run(oct_opctx *c) { return cast_run_impl(c, 0); }
static oct_status castlike_infer(oct_opctx *c) { return cast_infer_impl(c, 1); }
static oct_status castlike_run(oct_opctx *c) { return cast_run_impl(c, 1); }

OCT_OP(Cast);
OCT_OP(CastLike);
const oct_op_def oct_op_Cast = {"", "Cast", cast_infer, cast_run, 0};
const oct_op_def oct_op_CastLike = {"", "CastLike", castlike_infer, castlike_run, 0};
