/* ONNX protobuf -> octet IR. */
#ifndef OCT_ONNX_IMPORT_H
#define OCT_ONNX_IMPORT_H

#include <stddef.h>

#include "graph/ir.h"

/* Parses a serialized ModelProto. base_dir resolves external data (NULL:
 * external data is refused). */
oct_status oct_onnx_import(const void *data, size_t size, const char *base_dir, oct_graph **out,
                           oct_error *err);
/* Parses a serialized TensorProto (the test suite's input_N.pb). name (may be
 * NULL) receives a malloc'ed copy of the tensor's name. */
oct_status oct_onnx_parse_tensor(const void *data, size_t size, oct_tensor *out, char **name,
                                 oct_error *err);

/* Maps a whole file read-only. */
typedef struct oct_mapped_file {
    void *data;
    size_t size;
} oct_mapped_file;
oct_status oct_map_file(const char *path, oct_mapped_file *f, oct_error *err);
void oct_unmap_file(oct_mapped_file *f);

#endif
