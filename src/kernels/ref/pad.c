/* Reference Pad for any fixed-size dtype. Negative pads crop first; the
 * reflect/edge/wrap modes then read from the cropped input, as ONNX Runtime
 * does. Each axis gets a table from output index to input index (-1: the
 * constant), so the element loop only adds up offsets. */
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/ref_nn.h"

static int64_t pos_mod(int64_t a, int64_t m) {
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

static void axis_map(int64_t n, int64_t pb, int64_t pe, int64_t out, oct_pad_mode mode, int64_t *map) {
    int64_t start = pb < 0 ? -pb : 0;
    int64_t len = n - start - (pe < 0 ? -pe : 0);
    int64_t lead = pb > 0 ? pb : 0;
    for (int64_t o = 0; o < out; o++) {
        int64_t j = o - lead;
        if (j >= 0 && j < len) {
            map[o] = start + j;
            continue;
        }
        if (mode == OCT_PAD_CONSTANT || len <= 0) {
            map[o] = -1;
            continue;
        }
        int64_t m;
        if (mode == OCT_PAD_EDGE) {
            m = j < 0 ? 0 : len - 1;
        } else if (mode == OCT_PAD_WRAP) {
            m = pos_mod(j, len);
        } else if (len == 1) {
            m = 0;
        } else { /* reflect about the edges without repeating them */
            int64_t period = 2 * (len - 1);
            m = pos_mod(j, period);
            if (m >= len) m = period - m;
        }
        map[o] = start + m;
    }
}

oct_status oct_ref_pad(const oct_tensor *x, const int64_t *pads, oct_pad_mode mode,
                       const void *value, oct_tensor *y) {
    int r = y->ndim;
    size_t es = oct_dtype_size(y->dtype);
    int64_t total = oct_numel(y);
    if (total == 0) return OCT_OK;
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return OCT_OK;
    }
    int64_t sum = 0, xs[OCT_MAX_DIMS], *map[OCT_MAX_DIMS];
    for (int d = 0; d < r; d++) sum += y->dims[d];
    int64_t *buf = malloc((size_t)sum * sizeof *buf);
    if (!buf) return OCT_E_NOMEM;
    int64_t acc = 0;
    for (int d = 0; d < r; d++) {
        map[d] = buf + acc;
        acc += y->dims[d];
        axis_map(x->dims[d], pads[d], pads[r + d], y->dims[d], mode, map[d]);
    }
    oct_strides(r, x->dims, xs);
    const char *src = x->data;
    char *dst = y->data;
    int64_t idx[OCT_MAX_DIMS] = {0}, inner = y->dims[r - 1];
    for (int64_t e = 0; e < total; e += inner) {
        /* offset of the row from all axes but the last; -1: constant row */
        int64_t base = 0;
        for (int d = 0; d < r - 1; d++) {
            int64_t s = map[d][idx[d]];
            if (s < 0) {
                base = -1;
                break;
            }
            base += s * xs[d];
        }
        for (int64_t i = 0; i < inner; i++) {
            int64_t s = map[r - 1][i];
            const void *from = base < 0 || s < 0 ? value : src + (base + s) * (int64_t)es;
            memcpy(dst + (e + i) * (int64_t)es, from, es);
        }
        for (int d = r - 2; d >= 0; d--) {
            if (++idx[d] < y->dims[d]) break;
            idx[d] = 0;
        }
    }
    free(buf);
    return OCT_OK;
}
