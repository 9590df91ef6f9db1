/* TopK: each slice along the axis is sorted with the index as the final key,
 * so equal values keep the lower index first (ONNX Runtime's order). NaN
 * counts as larger than every number. */
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/ref_data.h"

typedef struct {
    union {
        double f;
        int64_t i;
    } v;
    int64_t idx;
} item;

static int by_idx(const item *a, const item *b) { return (a->idx > b->idx) - (a->idx < b->idx); }

/* -1/0/1 for a < b, with NaN above everything. */
static int cmp_f(double a, double b) {
    int na = a != a, nb = b != b;
    if (na || nb) return na - nb;
    return (a > b) - (a < b);
}
static int cmp_i(int64_t a, int64_t b) { return (a > b) - (a < b); }

static int desc_f(const void *x, const void *y) {
    const item *a = x, *b = y;
    int c = cmp_f(b->v.f, a->v.f);
    return c ? c : by_idx(a, b);
}
static int asc_f(const void *x, const void *y) {
    const item *a = x, *b = y;
    int c = cmp_f(a->v.f, b->v.f);
    return c ? c : by_idx(a, b);
}
static int desc_i(const void *x, const void *y) {
    const item *a = x, *b = y;
    int c = cmp_i(b->v.i, a->v.i);
    return c ? c : by_idx(a, b);
}
static int asc_i(const void *x, const void *y) {
    const item *a = x, *b = y;
    int c = cmp_i(a->v.i, b->v.i);
    return c ? c : by_idx(a, b);
}

typedef int (*cmp_fn)(const void *, const void *);

/* Heap of the k best items seen so far, the worst on top. */
static void sift_down(item *h, int64_t n, int64_t i, cmp_fn cmp) {
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && cmp(&h[l], &h[w]) > 0) w = l;
        if (r < n && cmp(&h[r], &h[w]) > 0) w = r;
        if (w == i) return;
        item t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

oct_status oct_ref_topk(const oct_tensor *x, int axis, int largest, oct_tensor *values,
                        oct_tensor *indices) {
    const oct_tensor *shape_src = values ? values : indices;
    if (!shape_src) return OCT_OK;
    int64_t n = x->dims[axis], k = shape_src->dims[axis], outer = 1, inner = 1;
    for (int i = 0; i < axis; i++)
        outer *= x->dims[i];
    for (int i = axis + 1; i < x->ndim; i++)
        inner *= x->dims[i];
    if (k == 0 || outer * inner == 0) return OCT_OK;
    size_t es = oct_dtype_size(x->dtype);
    int isf = oct_dtype_is_float(x->dtype);
    /* uint64 keeps its order in int64 once the sign bit is flipped */
    int u64 = x->dtype == OCT_UINT64;
    cmp_fn cmp = isf ? (largest ? desc_f : asc_f) : (largest ? desc_i : asc_i);
    item *h = malloc((size_t)k * sizeof *h);
    if (!h) return OCT_E_NOMEM;
    const char *p = (const char *)x->data;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t in = 0; in < inner; in++) {
            int64_t base = o * n * inner + in;
            /* The comparators order by value, then index: a strict total
             * order, so keeping the k first items of it by a heap gives the
             * same result as a full sort. */
            for (int64_t j = 0; j < n; j++) {
                item e;
                int64_t el = base + j * inner;
                if (isf)
                    e.v.f = oct_get_f64(x, el);
                else if (u64)
                    e.v.i = (int64_t)(((const uint64_t *)x->data)[el] ^ (UINT64_C(1) << 63));
                else
                    e.v.i = oct_get_i64(x, el);
                e.idx = j;
                if (j < k) {
                    h[j] = e;
                    if (j == k - 1)
                        for (int64_t i = k / 2 - 1; i >= 0; i--)
                            sift_down(h, k, i, cmp);
                } else if (cmp(&e, &h[0]) < 0) {
                    h[0] = e;
                    sift_down(h, k, 0, cmp);
                }
            }
            qsort(h, (size_t)k, sizeof *h, cmp);
            int64_t obase = o * k * inner + in;
            for (int64_t j = 0; j < k; j++) {
                int64_t oe = obase + j * inner;
                if (values)
                    memcpy((char *)values->data + (size_t)oe * es,
                           p + (size_t)(base + h[j].idx * inner) * es, es);
                if (indices) ((int64_t *)indices->data)[oe] = h[j].idx;
            }
        }
    }
    free(h);
    return OCT_OK;
}
