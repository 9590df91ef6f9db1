/* Slice: starts/ends/axes attributes before opset 10, inputs (with steps)
 * from 10. Clamping follows the spec, so INT64_MAX / INT64_MIN ends mean
 * "to the end" in either direction. */
#include "kernels/ref/ref_data.h"
#include "ops/op.h"

typedef struct {
    int64_t start[OCT_MAX_DIMS], step[OCT_MAX_DIMS], dims[OCT_MAX_DIMS];
} slice_plan;

/* Reads input i (int32/int64, at most OCT_MAX_DIMS values) into v. */
static oct_status read_input(const oct_opctx *c, int i, const char *what, int64_t *v, int64_t *n) {
    const oct_tensor *t = c->in[i];
    if (!t->data) return OCT_E_DYNAMIC;
    if (t->dtype != OCT_INT64 && t->dtype != OCT_INT32)
        return oct_op_fail(c, OCT_E_SHAPE, "input %d (%s) must be int32 or int64, got %s", i, what,
                           oct_dtype_name(t->dtype));
    if (t->ndim > 1 || oct_numel(t) > OCT_MAX_DIMS)
        return oct_op_fail(c, OCT_E_SHAPE, "input %d (%s) must be 1-D with at most %d values", i,
                           what, OCT_MAX_DIMS);
    *n = oct_read_ints(t, v, OCT_MAX_DIMS);
    return OCT_OK;
}

static oct_status read_attr(const oct_opctx *c, const char *what, int64_t *v, int64_t *n) {
    const int64_t *a;
    int64_t k = oct_attr_ints(c->node, what, &a);
    if (k < 0) return oct_op_fail(c, OCT_E_INVALID_ARG, "attribute '%s' is required", what);
    if (k > OCT_MAX_DIMS)
        return oct_op_fail(c, OCT_E_SHAPE, "attribute '%s' has %lld values", what, (long long)k);
    for (int64_t i = 0; i < k; i++)
        v[i] = a[i];
    *n = k;
    return OCT_OK;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static oct_status slice_plan_make(const oct_opctx *c, slice_plan *p) {
    OCT_TRY(oct_op_need_input(c, 0, OCT_UNDEFINED));
    const oct_tensor *x = c->in[0];
    if (!oct_dtype_size(x->dtype))
        return oct_op_fail(c, OCT_E_UNSUPPORTED, "dtype %s is not supported",
                           oct_dtype_name(x->dtype));
    int r = x->ndim;
    int64_t st[OCT_MAX_DIMS], en[OCT_MAX_DIMS], ax[OCT_MAX_DIMS], sp[OCT_MAX_DIMS];
    int64_t ns, ne, na = -1, np = -1;
    if (c->opset < 10) {
        OCT_TRY(read_attr(c, "starts", st, &ns));
        OCT_TRY(read_attr(c, "ends", en, &ne));
        if (oct_attr_find(c->node, "axes")) OCT_TRY(read_attr(c, "axes", ax, &na));
    } else {
        OCT_TRY(oct_op_need_input(c, 1, OCT_UNDEFINED));
        OCT_TRY(oct_op_need_input(c, 2, OCT_UNDEFINED));
        /* all value inputs first, so a pending one is reported as dynamic */
        for (int i = 1; i < 5; i++)
            if (oct_in(c, i) && !c->in[i]->data) return OCT_E_DYNAMIC;
        OCT_TRY(read_input(c, 1, "starts", st, &ns));
        OCT_TRY(read_input(c, 2, "ends", en, &ne));
        if (oct_in(c, 3)) OCT_TRY(read_input(c, 3, "axes", ax, &na));
        if (oct_in(c, 4)) OCT_TRY(read_input(c, 4, "steps", sp, &np));
    }
    if (ne != ns || (na >= 0 && na != ns) || (np >= 0 && np != ns))
        return oct_op_fail(c, OCT_E_SHAPE,
                           "starts, ends, axes and steps must have equal lengths "
                           "(%lld, %lld, %lld, %lld)",
                           (long long)ns, (long long)ne, (long long)na, (long long)np);
    if (ns > r) return oct_op_fail(c, OCT_E_SHAPE, "%lld starts for rank %d", (long long)ns, r);
    for (int d = 0; d < r; d++) {
        p->start[d] = 0;
        p->step[d] = 1;
        p->dims[d] = x->dims[d];
    }
    unsigned seen = 0;
    for (int64_t i = 0; i < ns; i++) {
        int a;
        OCT_TRY(oct_op_axis(c, na >= 0 ? ax[i] : i, r, &a));
        if (seen & (1u << a)) return oct_op_fail(c, OCT_E_SHAPE, "axis %d is repeated", a);
        seen |= 1u << a;
        int64_t step = np >= 0 ? sp[i] : 1, d = x->dims[a], s = st[i], e = en[i], n;
        if (step == 0) return oct_op_fail(c, OCT_E_INVALID_ARG, "step for axis %d is 0", a);
        if (s < 0) s += d; /* d >= 0: cannot overflow */
        if (e < 0) e += d;
        if (step > 0) {
            s = clamp(s, 0, d);
            e = clamp(e, 0, d);
            n = e > s ? (e - s - 1) / step + 1 : 0;
        } else if (d == 0) {
            s = 0;
            n = 0;
        } else {
            s = clamp(s, 0, d - 1);
            e = clamp(e, -1, d - 1);
            /* -step overflows for INT64_MIN: divide in unsigned */
            n = s > e ? (int64_t)((uint64_t)(s - e - 1) / ((uint64_t)0 - (uint64_t)step)) + 1 : 0;
        }
        p->start[a] = s;
        p->step[a] = step;
        p->dims[a] = n;
    }
    return OCT_OK;
}

static oct_status slice_infer(oct_opctx *c) {
    slice_plan p = {{0}, {0}, {0}};
    OCT_TRY(slice_plan_make(c, &p));
    if (oct_out(c, 0)) oct_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[0]->ndim, p.dims);
    return OCT_OK;
}

static oct_status slice_run(oct_opctx *c) {
    slice_plan p = {{0}, {0}, {0}};
    OCT_TRY(slice_plan_make(c, &p));
    oct_tensor *y = oct_out(c, 0);
    if (!y) return OCT_OK;
    oct_tensor want = *y;
    oct_tensor_set_shape(&want, y->dtype, c->in[0]->ndim, p.dims);
    if (!oct_shape_equal(y, &want)) return oct_op_fail(c, OCT_E_SHAPE, "output shape mismatch");
    oct_ref_slice(c->in[0], p.start, p.step, y);
    return OCT_OK;
}

const oct_op_def oct_op_Slice = {"", "Slice", slice_infer, slice_run, 0};
