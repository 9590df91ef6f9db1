/* Internal tensor type shared by the graph, the kernels and the runtime. */
#ifndef OCT_CORE_TENSOR_H
#define OCT_CORE_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "octet/octet.h"

typedef struct oct_tensor {
    oct_dtype dtype;
    int ndim;
    int64_t dims[OCT_MAX_DIMS];
    void *data;   /* NULL when only the type and shape are known */
    size_t cap;   /* bytes allocated at data when owned */
    int owned;    /* 1: data is freed with the tensor */
} oct_tensor;

/* Number of elements (1 for a scalar). */
int64_t oct_numel(const oct_tensor *t);
int64_t oct_shape_numel(int ndim, const int64_t *dims);
size_t oct_nbytes(const oct_tensor *t);
/* (Re)allocates owned storage for the tensor's current dtype and shape;
 * zero-fills. Keeps the buffer when it is large enough. */
oct_status oct_tensor_alloc(oct_tensor *t);
void oct_tensor_release(oct_tensor *t); /* frees owned data, keeps shape */
/* Deep copy (data included when present). */
oct_status oct_tensor_copy(oct_tensor *dst, const oct_tensor *src);
void oct_tensor_set_shape(oct_tensor *t, oct_dtype dt, int ndim, const int64_t *dims);
int oct_shape_equal(const oct_tensor *a, const oct_tensor *b);
/* "1x3x640x640" into buf. */
const char *oct_shape_str(int ndim, const int64_t *dims, char *buf, size_t n);

/* Element access as double / int64 for any numeric dtype (used by shape
 * logic and tests, never by hot loops). */
double oct_get_f64(const oct_tensor *t, int64_t i);
int64_t oct_get_i64(const oct_tensor *t, int64_t i);
void oct_set_f64(oct_tensor *t, int64_t i, double v);
int oct_dtype_is_float(oct_dtype t);
int oct_dtype_is_int(oct_dtype t);

/* Row-major strides in elements. */
void oct_strides(int ndim, const int64_t *dims, int64_t *strides);

#endif
