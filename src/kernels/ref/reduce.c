/* Reduce* kernels. x is walked once in row-major order (dims merged so a
 * reduction over H and W is one long row); every element is folded into the
 * accumulator of its output position. Floats accumulate in double; integer
 * Sum/Mean/Prod/Min/Max/L1/SumSquare accumulate exactly in int64 (wrapping),
 * the others go through double. LogSumExp takes a second pass, shifted by
 * the per-output max so large inputs do not overflow. */
#include <math.h>
#include <stdlib.h>

#include "kernels/ref/ref_elementwise.h"

int oct_ref_reduce_supports(oct_reduce_op op, oct_dtype dt) {
    /* bool only for ReduceMax/ReduceMin (opset 20) */
    if (dt == OCT_BOOL) return op == OCT_RED_MAX || op == OCT_RED_MIN;
    return (unsigned)op <= OCT_RED_SUM_SQUARE && oct_ref_is_numeric(dt);
}

static int int_domain(oct_reduce_op op, oct_dtype dt) {
    if ((!oct_dtype_is_int(dt) && dt != OCT_BOOL) || dt == OCT_UINT64) return 0;
    return op == OCT_RED_SUM || op == OCT_RED_MEAN || op == OCT_RED_PROD || op == OCT_RED_MAX ||
           op == OCT_RED_MIN || op == OCT_RED_L1 || op == OCT_RED_SUM_SQUARE;
}

#define WADD(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define WMUL(a, b) ((int64_t)((uint64_t)(a) * (uint64_t)(b)))

/* acc[i * s] = STEP(acc[i * s], v[i]); s is 0 (the row folds into one
 * output) or 1 (the row runs along kept outputs). */
#define FOLD(STEP)                                                                                 \
    do {                                                                                           \
        if (s == 0) {                                                                              \
            T a = acc[0];                                                                          \
            for (int64_t i = 0; i < n; i++)                                                        \
                a = STEP(a, v[i], i * s);                                                          \
            acc[0] = a;                                                                            \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++)                                                        \
                acc[i * s] = STEP(acc[i * s], v[i], i * s);                                        \
        }                                                                                          \
    } while (0)
#define S_ADD(a, x, j) ((a) + (x))
#define S_ABS(a, x, j) ((a) + fabs(x))
#define S_SQ(a, x, j) ((a) + (x) * (x))
#define S_MUL(a, x, j) ((a) * (x))
#define S_MAX(a, x, j) ((x) > (a) || (x) != (x) ? (x) : (a))
#define S_MIN(a, x, j) ((x) < (a) || (x) != (x) ? (x) : (a))
#define S_EXP(a, x, j) ((a) + exp((x)-shift[j]))
#define I_ADD(a, x, j) WADD(a, x)
#define I_ABS(a, x, j) WADD(a, (x) < 0 ? WMUL(x, -1) : (x))
#define I_SQ(a, x, j) WADD(a, WMUL(x, x))
#define I_MUL(a, x, j) WMUL(a, x)
#define I_MAX(a, x, j) ((x) > (a) ? (x) : (a))
#define I_MIN(a, x, j) ((x) < (a) ? (x) : (a))

static void fold_f64(oct_reduce_op op, double *acc, int64_t s, const double *v, int64_t n,
                     const double *shift) {
    typedef double T;
    switch (op) {
    case OCT_RED_SUM:
    case OCT_RED_MEAN:
    case OCT_RED_LOG_SUM: FOLD(S_ADD); break;
    case OCT_RED_L1: FOLD(S_ABS); break;
    case OCT_RED_L2:
    case OCT_RED_SUM_SQUARE: FOLD(S_SQ); break;
    case OCT_RED_PROD: FOLD(S_MUL); break;
    case OCT_RED_MAX: FOLD(S_MAX); break;
    case OCT_RED_MIN: FOLD(S_MIN); break;
    case OCT_RED_LOG_SUM_EXP: FOLD(S_EXP); break;
    }
}

static void fold_i64(oct_reduce_op op, int64_t *acc, int64_t s, const int64_t *v, int64_t n) {
    typedef int64_t T;
    switch (op) {
    case OCT_RED_L1: FOLD(I_ABS); break;
    case OCT_RED_SUM_SQUARE: FOLD(I_SQ); break;
    case OCT_RED_PROD: FOLD(I_MUL); break;
    case OCT_RED_MAX: FOLD(I_MAX); break;
    case OCT_RED_MIN: FOLD(I_MIN); break;
    default: FOLD(I_ADD); break;
    }
}

/* One pass over x folding into accd (double) or acci (int64). */
static void pass(oct_reduce_op op, const oct_tensor *x, const unsigned char *mask, double *accd,
                 int64_t *acci, const double *shift) {
    int nd = x->ndim;
    int64_t dims[OCT_MAX_DIMS], st[2][OCT_MAX_DIMS];
    if (oct_numel(x) <= 0) return;
    oct_strides(nd, x->dims, st[0]);
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) {
        dims[d] = x->dims[d];
        st[1][d] = mask[d] ? 0 : s;
        if (!mask[d]) s *= dims[d];
    }
    int m = oct_ref_merge_dims(nd, dims, 2, st);
    int64_t n = m ? dims[m - 1] : 1, ys = m ? st[1][m - 1] : 0;
    int64_t rows = oct_numel(x) / n, idx[OCT_MAX_DIMS] = {0}, yoff = 0;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < n; c += 256) {
            int64_t k = n - c < 256 ? n - c : 256, j = yoff + c * ys;
            if (acci) {
                int64_t buf[256];
                oct_ref_load_i64(x->data, x->dtype, r * n + c, 1, k, buf);
                fold_i64(op, acci + j, ys, buf, k);
            } else {
                double buf[256];
                oct_ref_load_f64(x->data, x->dtype, r * n + c, 1, k, buf);
                fold_f64(op, accd + j, ys, buf, k, shift ? shift + j : NULL);
            }
        }
        for (int d = m - 2; d >= 0; d--) {
            yoff += st[1][d];
            if (++idx[d] < dims[d]) break;
            yoff -= st[1][d] * dims[d];
            idx[d] = 0;
        }
    }
}

oct_status oct_ref_reduce(oct_reduce_op op, const oct_tensor *x, const unsigned char *mask,
                          oct_tensor *y) {
    oct_dtype dt = x->dtype;
    if (!oct_ref_reduce_supports(op, dt)) return OCT_E_UNSUPPORTED;
    int64_t ny = oct_numel(y), count = 1;
    for (int d = 0; d < x->ndim; d++)
        if (mask[d]) count *= x->dims[d];
    if (ny <= 0) return OCT_OK;
    int ints = int_domain(op, dt);
    double *accd = ints ? NULL : (double *)malloc((size_t)ny * sizeof(double));
    int64_t *acci = ints ? (int64_t *)malloc((size_t)ny * sizeof(int64_t)) : NULL;
    double *shift =
        op == OCT_RED_LOG_SUM_EXP ? (double *)malloc((size_t)ny * sizeof(double)) : NULL;
    if ((!accd && !acci) || (op == OCT_RED_LOG_SUM_EXP && !shift)) {
        free(accd), free(acci), free(shift);
        return OCT_E_NOMEM;
    }
    int64_t lo, hi;
    oct_ref_int_limits(dt, &lo, &hi);
    for (int64_t i = 0; i < ny; i++) {
        if (ints)
            acci[i] = op == OCT_RED_PROD ? 1 : op == OCT_RED_MAX ? lo : op == OCT_RED_MIN ? hi : 0;
        else
            accd[i] = op == OCT_RED_PROD  ? 1
                      : op == OCT_RED_MAX ? -INFINITY
                      : op == OCT_RED_MIN ? INFINITY
                                          : 0;
    }
    if (shift) {
        for (int64_t i = 0; i < ny; i++)
            shift[i] = -INFINITY;
        pass(OCT_RED_MAX, x, mask, shift, NULL, NULL);
        for (int64_t i = 0; i < ny; i++)
            if (isinf(shift[i])) shift[i] = 0; /* empty, or inf: exp(x - inf) is no help */
    }
    pass(op, x, mask, accd, acci, shift);
    if (ints) {
        if (op == OCT_RED_MEAN)
            for (int64_t i = 0; i < ny; i++)
                acci[i] = count ? acci[i] / count : 0;
        oct_ref_store_i64(y->data, y->dtype, 0, ny, acci);
    } else {
        for (int64_t i = 0; i < ny; i++) {
            double *a = accd + i;
            switch (op) {
            case OCT_RED_MEAN: *a /= (double)count; break;
            case OCT_RED_L2: *a = sqrt(*a); break;
            case OCT_RED_LOG_SUM: *a = log(*a); break;
            case OCT_RED_LOG_SUM_EXP: *a = log(*a) + shift[i]; break;
            default: break;
            }
        }
        oct_ref_store_f64(y->data, y->dtype, 0, ny, accd);
    }
    free(accd), free(acci), free(shift);
    return OCT_OK;
}
