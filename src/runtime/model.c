/* oct_model: a loaded ONNX file. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/sha256.h"
#include "onnx/onnx_import.h"
#include "runtime/runtime.h"

static oct_status finish(oct_model *m, oct_graph *g, oct_error *err) {
    oct_status st = oct_graph_toposort(g, err);
    if (st) {
        oct_graph_free(g);
        free(m->path);
        free(m);
        return st;
    }
    m->g = g;
    return OCT_OK;
}

oct_status oct_model_load_file(const char *path, oct_model **out, oct_error *err) {
    if (!path || !out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_model_load_file: NULL argument");
    *out = NULL;
    oct_mapped_file f;
    OCT_TRY(oct_map_file(path, &f, err));
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *base = dirname(dir);
    oct_graph *g = NULL;
    oct_status st = oct_onnx_import(f.data, f.size, base, &g, err);
    if (st) {
        oct_unmap_file(&f);
        oct_error_prefix(err, "%s: ", path);
        return st;
    }
    oct_model *m = calloc(1, sizeof *m);
    if (!m) {
        oct_unmap_file(&f);
        oct_graph_free(g);
        return oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    oct_sha256_hex(f.data, f.size, m->sha256);
    oct_unmap_file(&f);
    m->path = strdup(path);
    st = finish(m, g, err);
    if (st) {
        oct_error_prefix(err, "%s: ", path);
        return st;
    }
    *out = m;
    return OCT_OK;
}

oct_status oct_model_load_memory(const void *data, size_t size, oct_model **out, oct_error *err) {
    if (!out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_model_load_memory: NULL argument");
    *out = NULL;
    oct_graph *g = NULL;
    OCT_TRY(oct_onnx_import(data, size, NULL, &g, err));
    oct_model *m = calloc(1, sizeof *m);
    if (!m) {
        oct_graph_free(g);
        return oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    oct_sha256_hex(data, size, m->sha256);
    OCT_TRY(finish(m, g, err));
    *out = m;
    return OCT_OK;
}

void oct_model_free(oct_model *m) {
    if (!m) return;
    oct_graph_free(m->g);
    free(m->path);
    free(m);
}

int oct_model_num_inputs(const oct_model *m) { return m ? m->g->n_inputs : 0; }
int oct_model_num_outputs(const oct_model *m) { return m ? m->g->n_outputs : 0; }
int64_t oct_model_opset(const oct_model *m) { return m ? m->g->opset : 0; }
const char *oct_model_sha256(const oct_model *m) { return m ? m->sha256 : ""; }

static oct_status value_info(const oct_graph *g, int v, const char **name, oct_dtype *dtype,
                             int *ndim, int64_t dims[OCT_MAX_DIMS]) {
    const oct_value *val = &g->values[v];
    if (name) *name = val->name;
    if (dtype) *dtype = val->t.dtype;
    if (ndim) *ndim = val->t.ndim;
    if (dims)
        for (int i = 0; i < val->t.ndim; i++) dims[i] = val->t.dims[i];
    return OCT_OK;
}

oct_status oct_model_input_info(const oct_model *m, int index, const char **name, oct_dtype *dtype,
                                int *ndim, int64_t dims[OCT_MAX_DIMS], oct_error *err) {
    if (!m || index < 0 || index >= m->g->n_inputs)
        return oct_fail(err, OCT_E_INVALID_ARG, "input index %d out of range", index);
    return value_info(m->g, m->g->inputs[index], name, dtype, ndim, dims);
}

const char *oct_model_input_dim_name(const oct_model *m, int index, int axis) {
    if (!m || index < 0 || index >= m->g->n_inputs || axis < 0 || axis >= OCT_MAX_DIMS) return "";
    const char *s = m->g->values[m->g->inputs[index]].dim_names[axis];
    return s ? s : "";
}

oct_status oct_model_output_info(const oct_model *m, int index, const char **name, oct_dtype *dtype,
                                 int *ndim, int64_t dims[OCT_MAX_DIMS], oct_error *err) {
    if (!m || index < 0 || index >= m->g->n_outputs)
        return oct_fail(err, OCT_E_INVALID_ARG, "output index %d out of range", index);
    return value_info(m->g, m->g->outputs[index], name, dtype, ndim, dims);
}
