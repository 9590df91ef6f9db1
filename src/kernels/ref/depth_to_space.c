/* Reference DepthToSpace / SpaceToDepth: pure element moves, copied by
 * element size so every dtype works. */
#include <string.h>

#include "kernels/ref/ref_nn.h"

void oct_ref_depth_to_space(const oct_tensor *x, int64_t b, int crd, oct_tensor *y) {
    size_t es = oct_dtype_size(x->dtype);
    int64_t n = x->dims[0], c = x->dims[1], h = x->dims[2], w = x->dims[3];
    int64_t oc = c / (b * b), oh = h * b, ow = w * b;
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t in = 0; in < n; in++)
        for (int64_t co = 0; co < oc; co++)
            for (int64_t yy = 0; yy < oh; yy++)
                for (int64_t xx = 0; xx < ow; xx++) {
                    int64_t bh = yy % b, bw = xx % b;
                    /* DCR: depth is (bh, bw, c); CRD: (c, bh, bw) */
                    int64_t ci = crd ? (co * b + bh) * b + bw : (bh * b + bw) * oc + co;
                    int64_t si = ((in * c + ci) * h + yy / b) * w + xx / b;
                    int64_t di = ((in * oc + co) * oh + yy) * ow + xx;
                    memcpy(dst + di * (int64_t)es, src + si * (int64_t)es, es);
                }
}

void oct_ref_space_to_depth(const oct_tensor *x, int64_t b, oct_tensor *y) {
    size_t es = oct_dtype_size(x->dtype);
    int64_t n = x->dims[0], c = x->dims[1], h = x->dims[2], w = x->dims[3];
    int64_t oh = h / b, ow = w / b, oc = c * b * b;
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t in = 0; in < n; in++)
        for (int64_t ci = 0; ci < c; ci++)
            for (int64_t yy = 0; yy < h; yy++)
                for (int64_t xx = 0; xx < w; xx++) {
                    int64_t co = ((yy % b) * b + xx % b) * c + ci;
                    int64_t si = ((in * c + ci) * h + yy) * w + xx;
                    int64_t di = ((in * oc + co) * oh + yy / b) * ow + xx / b;
                    memcpy(dst + di * (int64_t)es, src + si * (int64_t)es, es);
                }
}
