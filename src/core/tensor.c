#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "core/error.h"
#include "core/tensor.h"

size_t oct_dtype_size(oct_dtype t) {
    switch (t) {
    case OCT_FLOAT: case OCT_INT32: case OCT_UINT32: return 4;
    case OCT_UINT8: case OCT_INT8: case OCT_BOOL: return 1;
    case OCT_UINT16: case OCT_INT16: case OCT_FLOAT16: case OCT_BFLOAT16: return 2;
    case OCT_INT64: case OCT_DOUBLE: case OCT_UINT64: return 8;
    default: return 0;
    }
}

const char *oct_dtype_name(oct_dtype t) {
    switch (t) {
    case OCT_FLOAT: return "float32";
    case OCT_UINT8: return "uint8";
    case OCT_INT8: return "int8";
    case OCT_UINT16: return "uint16";
    case OCT_INT16: return "int16";
    case OCT_INT32: return "int32";
    case OCT_INT64: return "int64";
    case OCT_STRING: return "string";
    case OCT_BOOL: return "bool";
    case OCT_FLOAT16: return "float16";
    case OCT_DOUBLE: return "float64";
    case OCT_UINT32: return "uint32";
    case OCT_UINT64: return "uint64";
    case OCT_BFLOAT16: return "bfloat16";
    default: return "undefined";
    }
}

int oct_dtype_is_float(oct_dtype t) {
    return t == OCT_FLOAT || t == OCT_DOUBLE || t == OCT_FLOAT16 || t == OCT_BFLOAT16;
}
int oct_dtype_is_int(oct_dtype t) {
    switch (t) {
    case OCT_UINT8: case OCT_INT8: case OCT_UINT16: case OCT_INT16: case OCT_INT32:
    case OCT_INT64: case OCT_UINT32: case OCT_UINT64: return 1;
    default: return 0;
    }
}

int64_t oct_shape_numel(int ndim, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    return n;
}
int64_t oct_numel(const oct_tensor *t) { return oct_shape_numel(t->ndim, t->dims); }
size_t oct_nbytes(const oct_tensor *t) {
    int64_t n = oct_numel(t);
    return n < 0 ? 0 : (size_t)n * oct_dtype_size(t->dtype);
}

/* Refuse absurd shapes before they reach malloc: a corrupt model may claim
 * any dimension. 4 GiB for one tensor: the fuzzer found a 5-node model whose
 * reference kernel asked for 16 GiB (libFuzzer stops at 4 GiB), and no
 * network octet runs on a CPU holds a single activation that large. */
#define OCT_MAX_TENSOR_BYTES ((size_t)1 << 32)

oct_status oct_tensor_alloc(oct_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->dims[i] < 0) return OCT_E_SHAPE;
        if (t->dims[i] && n > (int64_t)(OCT_MAX_TENSOR_BYTES / (size_t)t->dims[i])) return OCT_E_NOMEM;
        n *= t->dims[i];
    }
    size_t es = oct_dtype_size(t->dtype);
    if (!es) return OCT_E_UNSUPPORTED;
    size_t nb = (size_t)n * es;
    if (nb > OCT_MAX_TENSOR_BYTES) return OCT_E_NOMEM;
    if (t->owned && t->data && t->cap >= nb) {
        memset(t->data, 0, nb);
        return OCT_OK;
    }
    if (t->owned) free(t->data);
    t->data = calloc(nb ? nb : 1, 1);
    t->owned = 1;
    t->cap = nb ? nb : 1;
    return t->data ? OCT_OK : OCT_E_NOMEM;
}

void oct_tensor_release(oct_tensor *t) {
    if (t->owned) free(t->data);
    t->data = NULL;
    t->owned = 0;
    t->cap = 0;
}

oct_status oct_tensor_copy(oct_tensor *dst, const oct_tensor *src) {
    oct_tensor_release(dst);
    oct_tensor_set_shape(dst, src->dtype, src->ndim, src->dims);
    if (!src->data) return OCT_OK;
    OCT_TRY(oct_tensor_alloc(dst));
    memcpy(dst->data, src->data, oct_nbytes(src));
    return OCT_OK;
}

void oct_tensor_set_shape(oct_tensor *t, oct_dtype dt, int ndim, const int64_t *dims) {
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
}

int oct_shape_equal(const oct_tensor *a, const oct_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

const char *oct_shape_str(int ndim, const int64_t *dims, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    if (ndim == 0) {
        snprintf(buf, n, "scalar");
        return buf;
    }
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? "x%lld" : "%lld", (long long)dims[i]);
    return buf;
}

void oct_strides(int ndim, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

double oct_get_f64(const oct_tensor *t, int64_t i) {
    const void *p = t->data;
    switch (t->dtype) {
    case OCT_FLOAT: return ((const float *)p)[i];
    case OCT_DOUBLE: return ((const double *)p)[i];
    case OCT_FLOAT16: return oct_f16_to_f32(((const uint16_t *)p)[i]);
    case OCT_BFLOAT16: return oct_bf16_to_f32(((const uint16_t *)p)[i]);
    case OCT_INT8: return ((const int8_t *)p)[i];
    case OCT_UINT8: case OCT_BOOL: return ((const uint8_t *)p)[i];
    case OCT_INT16: return ((const int16_t *)p)[i];
    case OCT_UINT16: return ((const uint16_t *)p)[i];
    case OCT_INT32: return ((const int32_t *)p)[i];
    case OCT_UINT32: return ((const uint32_t *)p)[i];
    case OCT_INT64: return (double)((const int64_t *)p)[i];
    case OCT_UINT64: return (double)((const uint64_t *)p)[i];
    default: return 0;
    }
}

int64_t oct_get_i64(const oct_tensor *t, int64_t i) {
    const void *p = t->data;
    switch (t->dtype) {
    case OCT_INT64: return ((const int64_t *)p)[i];
    case OCT_UINT64: return (int64_t)((const uint64_t *)p)[i];
    case OCT_INT32: return ((const int32_t *)p)[i];
    case OCT_UINT32: return ((const uint32_t *)p)[i];
    case OCT_INT8: return ((const int8_t *)p)[i];
    case OCT_UINT8: case OCT_BOOL: return ((const uint8_t *)p)[i];
    case OCT_INT16: return ((const int16_t *)p)[i];
    case OCT_UINT16: return ((const uint16_t *)p)[i];
    default: {
        double d = oct_get_f64(t, i);
        if (d != d) return 0;
        if (d >= 9.2e18) return INT64_MAX;
        if (d <= -9.2e18) return INT64_MIN;
        return (int64_t)d;
    }
    }
}

void oct_set_f64(oct_tensor *t, int64_t i, double v) {
    void *p = t->data;
    switch (t->dtype) {
    case OCT_FLOAT: ((float *)p)[i] = (float)v; break;
    case OCT_DOUBLE: ((double *)p)[i] = v; break;
    case OCT_FLOAT16: ((uint16_t *)p)[i] = oct_f32_to_f16((float)v); break;
    case OCT_BFLOAT16: ((uint16_t *)p)[i] = oct_f32_to_bf16((float)v); break;
    case OCT_INT8: ((int8_t *)p)[i] = (int8_t)v; break;
    case OCT_UINT8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case OCT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case OCT_INT16: ((int16_t *)p)[i] = (int16_t)v; break;
    case OCT_UINT16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case OCT_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
    case OCT_UINT32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case OCT_INT64: ((int64_t *)p)[i] = (int64_t)v; break;
    case OCT_UINT64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    default: break;
    }
}
