/* The one N-D copy loop behind Slice, Transpose, Expand and Tile: a dense
 * destination walked in row-major order, a source walked with arbitrary
 * element strides. */
#include <string.h>

#include "kernels/ref/ref_data.h"

/* n elements: dst[i * dt] = src[i * st] (strides in elements). Sized loops
 * so that the compiler moves whole words instead of calling memcpy per
 * element. */
static void copy_row2(char *dst, int64_t dt, const char *src, int64_t st, int64_t n, size_t es) {
    if (st == 1 && dt == 1) {
        memcpy(dst, src, (size_t)n * es);
        return;
    }
    switch (es) {
#define ROW(T)                                                                                     \
    {                                                                                              \
        const T *s_ = (const T *)(const void *)src;                                                \
        T *d_ = (T *)(void *)dst;                                                                  \
        for (int64_t i = 0; i < n; i++)                                                            \
            d_[i * dt] = s_[i * st];                                                               \
        break;                                                                                     \
    }
    case 1: ROW(uint8_t)
    case 2: ROW(uint16_t)
    case 4: ROW(uint32_t)
    case 8: ROW(uint64_t)
#undef ROW
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + i * dt * (int64_t)es, src + i * st * (int64_t)es, es);
    }
}

static void copy_row(char *dst, const char *src, int64_t n, int64_t st, size_t es) {
    copy_row2(dst, 1, src, st, n, es);
}

/* Tile edge for 2-D transposed copies: 32x32 elements of up to 8 bytes keep
 * both the source and destination tiles in L1. */
#define TILE 32

/* dst[i * dstride + j] = src[i + j * sstride] for an n x m block, read along
 * the contiguous source axis. */
static void copy_tiled(char *dst, const char *src, int64_t n, int64_t m, int64_t dstride,
                       int64_t sstride, size_t es) {
    for (int64_t i0 = 0; i0 < n; i0 += TILE) {
        int64_t i1 = i0 + TILE < n ? i0 + TILE : n;
        for (int64_t j0 = 0; j0 < m; j0 += TILE) {
            int64_t j1 = j0 + TILE < m ? j0 + TILE : m;
            for (int64_t j = j0; j < j1; j++)
                copy_row2(dst + (size_t)(i0 * dstride + j) * es, dstride,
                          src + (i0 + j * sstride) * (int64_t)es, 1, i1 - i0, es);
        }
    }
}

void oct_ref_strided_copy(int ndim, const int64_t *dims, const int64_t *sstride, const void *src,
                          void *dst, size_t es) {
    int64_t d[OCT_STRIDED_MAX_DIMS], s[OCT_STRIDED_MAX_DIMS], ds[OCT_STRIDED_MAX_DIMS];
    int64_t cnt[OCT_STRIDED_MAX_DIMS];
    int n = 0;
    /* Drop unit dims and merge neighbours that are contiguous in the source,
     * so that e.g. a slice of whole rows becomes one long memcpy. */
    for (int i = 0; i < ndim; i++) {
        if (dims[i] == 0) return;
        if (dims[i] == 1) continue;
        if (n > 0 && s[n - 1] == sstride[i] * dims[i]) {
            d[n - 1] *= dims[i];
            s[n - 1] = sstride[i];
        } else {
            d[n] = dims[i];
            s[n] = sstride[i];
            n++;
        }
    }
    const char *base = (const char *)src;
    char *q = (char *)dst;
    if (n == 0) {
        memcpy(q, base, es);
        return;
    }
    oct_strides(n, d, ds);
    /* A transpose: the innermost output axis strides through the source
     * while another axis is contiguous there. Copy that pair of axes in
     * tiles instead of row by row, or every element misses the cache. */
    int t = -1;
    if (s[n - 1] != 1 && d[n - 1] >= 4)
        for (int i = n - 2; i >= 0; i--)
            if (s[i] == 1 && d[i] >= 4) {
                t = i;
                break;
            }
    int64_t len = d[n - 1], st = s[n - 1], blocks = 1;
    for (int i = 0; i < n - 1; i++) {
        if (i != t) blocks *= d[i];
        cnt[i] = 0;
    }
    /* Offsets in elements, not pointers: with negative strides an
     * intermediate pointer could leave the array. */
    int64_t off = 0, doff = 0;
    for (int64_t b = 0; b < blocks; b++) {
        if (t >= 0)
            copy_tiled(q + (size_t)doff * es, base + off * (int64_t)es, d[t], len, ds[t], st, es);
        else
            copy_row(q + (size_t)doff * es, base + off * (int64_t)es, len, st, es);
        for (int j = n - 2; j >= 0; j--) {
            if (j == t) continue;
            off += s[j];
            doff += ds[j];
            if (++cnt[j] < d[j]) break;
            off -= s[j] * d[j];
            doff -= ds[j] * d[j];
            cnt[j] = 0;
        }
    }
}

void oct_ref_copy(const oct_tensor *x, oct_tensor *y) {
    size_t n = oct_nbytes(x);
    if (n && x->data != y->data) memcpy(y->data, x->data, n);
}

void oct_ref_fill(const void *value, oct_tensor *y) {
    size_t es = oct_dtype_size(y->dtype);
    int64_t n = oct_numel(y);
    char *p = (char *)y->data;
    for (int64_t i = 0; i < n; i++)
        memcpy(p + (size_t)i * es, value, es);
}
