/* libFuzzer target: an arbitrary byte string as an ONNX model.
 * Loads it from memory; if that works, describes it (oct_model_summarize) and
 * creates a session; if every input then has a static shape, the inputs are
 * small and so is the graph, fills the inputs from the fuzz bytes and runs
 * it. Any crash, sanitizer report or leak is a finding; error statuses are
 * the expected outcome for most inputs. Build: cmake -DCMAKE_C_COMPILER=clang
 * -DOCT_SANITIZE=ON -DOCT_FUZZ=ON; run: tests/fuzz/run_fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "octet/octet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RUN_ELEMS 65536 /* total input elements for a run */
#define MAX_RUN_NODES 64    /* larger graphs are loaded and inferred only */

/* Fills a tensor from the fuzz bytes, cycling. Floats get finite values in
 * [-8, 8) and integers small values, so that runs mostly reach the kernels'
 * arithmetic instead of stopping at the first index check. */
static void fill(oct_tensor_view *t, int64_t n, const uint8_t *data, size_t size) {
    for (int64_t i = 0; i < n; i++) {
        uint8_t b = size ? data[(size_t)i % size] : 0;
        double v = ((int)b - 128) / 16.0;
        int8_t s = (int8_t)b;
        switch (t->dtype) {
        case OCT_FLOAT: ((float *)t->data)[i] = (float)v; break;
        case OCT_DOUBLE: ((double *)t->data)[i] = v; break;
        case OCT_FLOAT16: /* the bytes as they are: any half is a value */
        case OCT_BFLOAT16: ((uint16_t *)t->data)[i] = (uint16_t)(b | (uint16_t)(b & 0x3f) << 8); break;
        case OCT_INT8: ((int8_t *)t->data)[i] = (int8_t)(s % 8); break;
        case OCT_UINT8: ((uint8_t *)t->data)[i] = b; break;
        case OCT_INT16: ((int16_t *)t->data)[i] = (int16_t)(s % 8); break;
        case OCT_UINT16: ((uint16_t *)t->data)[i] = b; break;
        case OCT_INT32: ((int32_t *)t->data)[i] = s % 8; break;
        case OCT_UINT32: ((uint32_t *)t->data)[i] = b % 8; break;
        case OCT_INT64: ((int64_t *)t->data)[i] = s % 8; break;
        case OCT_UINT64: ((uint64_t *)t->data)[i] = b % 8; break;
        case OCT_BOOL: ((uint8_t *)t->data)[i] = b & 1; break;
        default: break; /* calloc'ed: zeros */
        }
    }
}

/* Sets every input and runs; returns quietly on any error status. */
static void try_run(oct_session *s, const uint8_t *data, size_t size) {
    int n = oct_session_num_inputs(s);
    int64_t total = 0;
    oct_tensor_view in[16];
    if (n > 16) return;
    for (int i = 0; i < n; i++) {
        const char *name;
        if (oct_session_input_info(s, i, &name, &in[i], NULL)) return;
        if (!oct_dtype_size(in[i].dtype) || in[i].ndim < 0 || in[i].ndim > OCT_MAX_DIMS) return;
        int64_t e = 1;
        for (int d = 0; d < in[i].ndim; d++) {
            if (in[i].dims[d] < 0 || in[i].dims[d] > MAX_RUN_ELEMS) return;
            e *= in[i].dims[d];
            if (e > MAX_RUN_ELEMS) return;
        }
        total += e;
        if (total > MAX_RUN_ELEMS) return;
    }
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        const char *name;
        oct_tensor_view t;
        oct_session_input_info(s, i, &name, &t, NULL);
        int64_t e = 1;
        for (int d = 0; d < t.ndim; d++) e *= t.dims[d];
        t.data = calloc((size_t)(e ? e : 1), oct_dtype_size(t.dtype));
        if (!t.data) return;
        fill(&t, e, data, size);
        ok = oct_session_set_input(s, name, &t, NULL) == OCT_OK;
        free(t.data);
    }
    if (!ok) return;
    oct_error err;
    if (oct_session_run(s, &err)) return;
    /* Read every output back, as a caller would. */
    for (int k = 0; k < oct_session_num_outputs(s); k++) {
        oct_tensor_view o;
        if (oct_session_get_output(s, k, &o, NULL)) continue;
        int64_t e = 1;
        for (int d = 0; d < o.ndim; d++) e *= o.dims[d];
        volatile uint8_t sink = 0;
        size_t bytes = (size_t)e * oct_dtype_size(o.dtype);
        if (o.data && bytes) sink ^= ((const uint8_t *)o.data)[0] ^ ((const uint8_t *)o.data)[bytes - 1];
        (void)sink;
        (void)oct_session_output_name(s, k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    oct_model *m = NULL;
    oct_error err;
    if (oct_model_load_memory(data, size, &m, &err)) return 0;

    /* Everything a caller can ask of a loaded model. */
    int ni = oct_model_num_inputs(m), no = oct_model_num_outputs(m);
    for (int i = 0; i < ni; i++) {
        const char *name;
        oct_dtype dt;
        int ndim;
        int64_t dims[OCT_MAX_DIMS];
        if (oct_model_input_info(m, i, &name, &dt, &ndim, dims, NULL) == OCT_OK)
            for (int a = 0; a < ndim; a++) (void)oct_model_input_dim_name(m, i, a);
    }
    for (int i = 0; i < no; i++) {
        const char *name;
        oct_dtype dt;
        int ndim;
        int64_t dims[OCT_MAX_DIMS];
        (void)oct_model_output_info(m, i, &name, &dt, &ndim, dims, NULL);
    }
    (void)oct_model_opset(m);
    (void)oct_model_sha256(m);

    oct_model_summary sum;
    memset(&sum, 0, sizeof sum);
    int small = 0;
    /* A failed summary (shape inference) is still filled in and owned. */
    if (oct_model_summarize(m, 0, NULL, &sum, &err) == OCT_OK) small = sum.n_nodes_original <= MAX_RUN_NODES;
    oct_model_summary_free(&sum);

    oct_session_options o;
    oct_session_options_init(&o);
    oct_session *s = NULL;
    if (oct_session_create(m, &o, &s, &err) == OCT_OK) {
        if (small) try_run(s, data, size);
        oct_session_free(s);
    }
    oct_model_free(m);
    return 0;
}
