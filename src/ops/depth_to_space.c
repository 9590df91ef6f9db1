/* DepthToSpace (DCR, and CRD from opset 11) and SpaceToDepth on 4-D
 * N x C x H x W tensors of any fixed-size dtype. */
#include <string.h>

#include "kernels/ref/ref_nn.h"

static oct_status d2s_check(const oct_opctx *c, int to_space, int64_t *b, int *crd) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (x->ndim != 4) return oct_op_fail(c, OCT_E_SHAPE, "input has rank %d, expected 4", x->ndim);
    if (oct_dtype_size(x->dtype) == 0)
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s", oct_dtype_name(x->dtype));
    *b = oct_attr_int(c->node, "blocksize", 0);
    if (*b < 1 || *b > ((int64_t)1 << 20))
        return oct_op_fail(c, OCT_E_INVALID_ARG, "blocksize %lld", (long long)*b);
    *crd = 0;
    if (to_space) {
        const char *mode = oct_attr_str(c->node, "mode", "DCR");
        if (!strcmp(mode, "CRD"))
            *crd = 1;
        else if (strcmp(mode, "DCR"))
            return oct_op_fail(c, OCT_E_INVALID_ARG, "unknown mode '%s' (DCR or CRD)", mode);
        if (x->dims[1] % (*b * *b))
            return oct_op_fail(c, OCT_E_SHAPE, "%lld channels are not divisible by blocksize^2 = %lld",
                               (long long)x->dims[1], (long long)(*b * *b));
    } else if (x->dims[2] % *b || x->dims[3] % *b) {
        return oct_op_fail(c, OCT_E_SHAPE, "H %lld and W %lld must be multiples of blocksize %lld",
                           (long long)x->dims[2], (long long)x->dims[3], (long long)*b);
    }
    return OCT_OK;
}

static oct_status d2s_infer_common(oct_opctx *c, int to_space) {
    int64_t b = 0;
    int crd = 0;
    OCT_TRY(d2s_check(c, to_space, &b, &crd));
    const oct_tensor *x = c->in[0];
    int64_t d[4] = {x->dims[0], x->dims[1], x->dims[2], x->dims[3]};
    if (to_space) {
        d[1] /= b * b;
        d[2] *= b;
        d[3] *= b;
    } else {
        d[1] *= b * b;
        d[2] /= b;
        d[3] /= b;
    }
    if (c->out[0]) oct_tensor_set_shape(c->out[0], x->dtype, 4, d);
    return OCT_OK;
}

static oct_status d2s_infer(oct_opctx *c) { return d2s_infer_common(c, 1); }
static oct_status s2d_infer(oct_opctx *c) { return d2s_infer_common(c, 0); }

static oct_status d2s_run(oct_opctx *c) {
    int64_t b = 0;
    int crd = 0;
    OCT_TRY(d2s_check(c, 1, &b, &crd));
    if (c->out[0]) oct_ref_depth_to_space(c->in[0], b, crd, c->out[0]);
    return OCT_OK;
}

static oct_status s2d_run(oct_opctx *c) {
    int64_t b = 0;
    int crd = 0;
    OCT_TRY(d2s_check(c, 0, &b, &crd));
    if (c->out[0]) oct_ref_space_to_depth(c->in[0], b, c->out[0]);
    return OCT_OK;
}

const oct_op_def oct_op_DepthToSpace = {"", "DepthToSpace", d2s_infer, d2s_run, 0};
const oct_op_def oct_op_SpaceToDepth = {"", "SpaceToDepth", s2d_infer, s2d_run, 0};
