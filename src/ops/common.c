/* Helpers shared by the op definitions. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ops/op.h"

oct_status oct_op_fail(const oct_opctx *c, oct_status st, const char *fmt, ...) {
    if (c->err && st != OCT_E_DYNAMIC) {
        char msg[OCT_ERROR_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        const char *nm = c->node && c->node->name && *c->node->name ? c->node->name : "(unnamed)";
        oct_fail(c->err, st, "node '%s' (%s): %s", nm, c->node ? c->node->op_type : "?", msg);
    }
    return st;
}

oct_status oct_op_need_input(const oct_opctx *c, int i, oct_dtype dt) {
    const oct_tensor *t = oct_in(c, i);
    if (!t) return oct_op_fail(c, OCT_E_INVALID_ARG, "input %d is required but absent", i);
    if (dt != OCT_UNDEFINED && t->dtype != dt)
        return oct_op_fail(c, OCT_E_SHAPE, "input %d has dtype %s, expected %s", i,
                           oct_dtype_name(t->dtype), oct_dtype_name(dt));
    return OCT_OK;
}

oct_status oct_op_need_value(const oct_opctx *c, int i) {
    const oct_tensor *t = oct_in(c, i);
    if (!t) return oct_op_fail(c, OCT_E_INVALID_ARG, "input %d is required but absent", i);
    return t->data ? OCT_OK : OCT_E_DYNAMIC;
}

int64_t oct_read_ints(const oct_tensor *t, int64_t *v, int64_t n) {
    if (!t || !t->data) return -1;
    int64_t k = oct_numel(t);
    if (k > n) return -1;
    if (t->dtype != OCT_INT64 && t->dtype != OCT_INT32) return -1;
    for (int64_t i = 0; i < k; i++) v[i] = oct_get_i64(t, i);
    return k;
}

oct_status oct_infer_same_as(oct_opctx *c, int i) {
    OCT_TRY(oct_op_need_input(c, i, OCT_UNDEFINED));
    const oct_tensor *a = c->in[i];
    for (int o = 0; o < c->n_out; o++)
        if (c->out[o]) oct_tensor_set_shape(c->out[o], a->dtype, a->ndim, a->dims);
    return OCT_OK;
}

oct_status oct_broadcast_shape(const oct_opctx *c, int na, const int64_t *a, int nb,
                               const int64_t *b, int *nout, int64_t *out) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int64_t da = i < n - na ? 1 : a[i - (n - na)];
        int64_t db = i < n - nb ? 1 : b[i - (n - nb)];
        if (da == db || db == 1)
            out[i] = da;
        else if (da == 1)
            out[i] = db;
        else {
            char sa[128], sb[128];
            return oct_op_fail(c, OCT_E_SHAPE, "shapes %s and %s do not broadcast (axis %d)",
                               oct_shape_str(na, a, sa, sizeof sa),
                               oct_shape_str(nb, b, sb, sizeof sb), i);
        }
    }
    *nout = n;
    return OCT_OK;
}

oct_status oct_op_axis(const oct_opctx *c, int64_t axis, int r, int *out) {
    if (axis < -r || axis >= (r == 0 ? 1 : r))
        return oct_op_fail(c, OCT_E_SHAPE, "axis %lld out of range for rank %d", (long long)axis, r);
    *out = (int)(axis < 0 ? axis + r : axis);
    return OCT_OK;
}
