/* Dropout in inference: the identity, with an all-true mask. */
#include <string.h>

#include "kernels/ref/ref_quant.h"

void oct_ref_dropout_identity(const oct_tensor *x, oct_tensor *y, oct_tensor *mask) {
    if (y && y->data != x->data) memcpy(y->data, x->data, oct_nbytes(x));
    if (!mask) return;
    int64_t n = oct_numel(mask);
    for (int64_t i = 0; i < n; i++)
        oct_set_f64(mask, i, 1.0);
}
