/* Editing an unpacked ONNX ModelProto in place, for the exporters.
 *
 * protobuf-c's free_unpacked frees exactly what unpack allocated, by walking
 * the message. So an edit never frees or reallocates anything protobuf-c
 * owns: every field it changes is first saved (pe_save / PE_SET), new
 * messages, arrays and strings come from the editor's own allocations, and
 * pe_finish puts every saved field back (newest first) and frees the
 * editor's allocations. Call pe_finish before free_unpacked; pack in
 * between. */
#ifndef OCT_ONNX_PROTO_EDIT_H
#define OCT_ONNX_PROTO_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "onnx.pb-c.h"

/* A growable array of pointers (its buffer is freed by oct_pvec_free). */
typedef struct oct_pvec {
    void **v;
    size_t n, cap;
} oct_pvec;
int oct_pvec_push(oct_pvec *p, void *x); /* 0, or -1 when out of memory */
void oct_pvec_free(oct_pvec *p);

/* A string -> pointer hash map (keys are borrowed). */
typedef struct oct_smap {
    const char **k;
    void **v;
    size_t n, cap;
} oct_smap;
int oct_smap_put(oct_smap *m, const char *key, void *val); /* replaces; -1 when out of memory */
void *oct_smap_get(const oct_smap *m, const char *key);
void oct_smap_free(oct_smap *m);

typedef struct oct_psave {
    void *addr;
    size_t len;
    unsigned char old[16];
} oct_psave;

typedef struct oct_pedit {
    oct_pvec owned;     /* blocks freed by pe_finish */
    oct_psave *saves;
    size_t n_saves, cap_saves;
    const char **names; /* hash set of tensor and node names in use */
    size_t n_names, cap_names;
    int nomem;          /* sticky: an allocation failed somewhere */
} oct_pedit;

void pe_init(oct_pedit *pe);
/* Restores every saved field and frees everything the editor allocated. */
void pe_finish(oct_pedit *pe);

/* Zeroed memory owned by the editor; NULL (and pe->nomem set) on failure. */
void *pe_alloc(oct_pedit *pe, size_t n);
char *pe_strdup(oct_pedit *pe, const char *s);
char *pe_printf(oct_pedit *pe, const char *fmt, ...) OCT_PRINTF(2, 3);
/* Records the current bytes at addr (len <= 16) to restore in pe_finish. */
int pe_save(oct_pedit *pe, void *addr, size_t len);
#define PE_SET(pe, lv, val) (pe_save((pe), &(lv), sizeof(lv)) ? -1 : ((lv) = (val), 0))

/* Name registry, so that new tensors and nodes never collide with old ones.
 * The strings must outlive the editor's use (protobuf or editor memory). */
int pe_name_add(oct_pedit *pe, const char *name);
int pe_name_used(const oct_pedit *pe, const char *name);
/* base + suffix when unused, else base + suffix + "_1", "_2", ...;
 * registered before returning. */
char *pe_unique(oct_pedit *pe, const char *base, const char *suffix);

/* A new node (all strings copied; NULL or "" inputs are absent ones). */
Onnx__NodeProto *pe_node(oct_pedit *pe, const char *op_type, const char *name, size_t n_in,
                         const char *const *in, size_t n_out, const char *const *out);
const Onnx__AttributeProto *pe_attr_find(const Onnx__NodeProto *n, const char *name);
Onnx__AttributeProto *pe_attr_int(oct_pedit *pe, const char *name, int64_t v);
Onnx__AttributeProto *pe_attr_str(oct_pedit *pe, const char *name, const char *s);
/* Appends an attribute to any node (saving the original array). */
int pe_attr_add(oct_pedit *pe, Onnx__NodeProto *n, Onnx__AttributeProto *a);
/* Drops the attribute `name` from a node when present. */
int pe_attr_remove(oct_pedit *pe, Onnx__NodeProto *n, const char *name);
/* Sets an int attribute, replacing or adding it. */
int pe_attr_set_int(oct_pedit *pe, Onnx__NodeProto *n, const char *name, int64_t v);
/* Replaces a node's input list (copied pointers; the strings must live on). */
int pe_set_inputs(oct_pedit *pe, Onnx__NodeProto *n, size_t count, char *const *names);

/* A new initializer holding a copy of nbytes of raw little-endian data. */
Onnx__TensorProto *pe_tensor(oct_pedit *pe, const char *name, int32_t data_type, int ndim,
                             const int64_t *dims, const void *raw, size_t nbytes);

/* Reads a float32 TensorProto's values into a malloc'ed array (caller
 * frees). Fails for other types and for external data. */
oct_status pe_tensor_floats(const Onnx__TensorProto *t, float **out, size_t *count, oct_error *err);

#endif
