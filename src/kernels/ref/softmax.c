/* Reference Softmax, LogSoftmax and Hardmax along the middle axis of an
 * [outer, n, inner] view, in double. The maximum is subtracted first so
 * large inputs do not overflow. */
#include <math.h>

#include "kernels/ref/ref_nn.h"

void oct_ref_softmax(oct_softmax_kind kind, int64_t outer, int64_t n, int64_t inner,
                     const double *x, double *y) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const double *xr = x + o * n * inner + i;
            double *yr = y + o * n * inner + i;
            if (n == 0) continue;
            double mx = xr[0];
            int64_t arg = 0;
            for (int64_t j = 1; j < n; j++)
                if (xr[j * inner] > mx) { /* strict: the first maximum wins */
                    mx = xr[j * inner];
                    arg = j;
                }
            if (kind == OCT_HARDMAX) {
                for (int64_t j = 0; j < n; j++) yr[j * inner] = j == arg ? 1.0 : 0.0;
                continue;
            }
            double sum = 0.0;
            for (int64_t j = 0; j < n; j++) sum += exp(xr[j * inner] - mx);
            if (kind == OCT_LOGSOFTMAX) {
                double ls = log(sum);
                for (int64_t j = 0; j < n; j++) yr[j * inner] = xr[j * inner] - mx - ls;
            } else {
                for (int64_t j = 0; j < n; j++) yr[j * inner] = exp(xr[j * inner] - mx) / sum;
            }
        }
}
