/* The graph IR: values (tensors by ONNX name) and nodes, in topological order
 * once oct_graph_toposort has run. Node and value indices are stable handles;
 * passes mark nodes dead instead of moving them, and oct_graph_compact drops
 * them. */
#ifndef OCT_GRAPH_IR_H
#define OCT_GRAPH_IR_H

#include <stdint.h>

#include "core/error.h"
#include "core/tensor.h"

typedef enum oct_attr_type {
    OCT_ATTR_UNDEFINED = 0,
    OCT_ATTR_FLOAT = 1,
    OCT_ATTR_INT = 2,
    OCT_ATTR_STRING = 3,
    OCT_ATTR_TENSOR = 4,
    OCT_ATTR_GRAPH = 5,
    OCT_ATTR_FLOATS = 6,
    OCT_ATTR_INTS = 7,
    OCT_ATTR_STRINGS = 8
} oct_attr_type;

typedef struct oct_attr {
    char *name;
    oct_attr_type type;
    float f;
    int64_t i;
    char *s; /* NUL-terminated copy */
    int64_t n; /* count for FLOATS / INTS / STRINGS */
    float *floats;
    int64_t *ints;
    char **strings;
    oct_tensor *t;
} oct_attr;

struct oct_op_def;

typedef struct oct_node {
    char *name;
    char *op_type;
    char *domain; /* "" for the default domain */
    int64_t opset; /* opset version of the node's domain */
    int n_in;
    int *in; /* value indices, -1 for an absent optional input */
    int n_out;
    int *out; /* -1 for an absent optional output */
    int n_attr;
    oct_attr *attrs;
    const struct oct_op_def *def; /* NULL: unsupported */
    int dead;
    int dynamic; /* output shapes must be inferred at run time */
} oct_node;

typedef struct oct_value {
    char *name;
    oct_tensor t;     /* dtype and shape when known; data for constants */
    int shape_known;
    int is_const;     /* initializer or folded: t.data holds the value */
    int is_input;     /* a graph input fed by the user */
    int is_output;
    int is_shadow;    /* a layout copy of another value made by the planner */
    int producer;     /* node index, -1 for inputs and constants */
    char *dim_names[OCT_MAX_DIMS]; /* symbolic input dims, NULL when none */
} oct_value;

typedef struct oct_graph {
    oct_value *values;
    int n_values, cap_values;
    oct_node *nodes;
    int n_nodes, cap_nodes;
    int *inputs; /* non-constant graph inputs */
    int n_inputs;
    int *outputs;
    int n_outputs;
    int64_t opset; /* default domain */
    int64_t ir_version;
    /* name -> value index, open addressing */
    int *hash;
    int hash_cap;
} oct_graph;

oct_graph *oct_graph_new(void);
void oct_graph_free(oct_graph *g);
/* Deep copy; constant data is copied too (sessions own their graph). */
oct_status oct_graph_clone(const oct_graph *g, oct_graph **out, oct_error *err);

/* Value by name, -1 when absent. */
int oct_graph_find(const oct_graph *g, const char *name);
/* Value by name, created when absent. Returns -1 on allocation failure. */
int oct_graph_value(oct_graph *g, const char *name);
/* A fresh value with a unique name derived from `hint`. */
int oct_graph_new_value(oct_graph *g, const char *hint);
/* Appends a node; copies the strings. Returns its index or -1. */
int oct_graph_add_node(oct_graph *g, const char *name, const char *op_type,
                       const char *domain, int n_in, const int *in, int n_out, const int *out);

/* Node attributes. */
const oct_attr *oct_attr_find(const oct_node *n, const char *name);
int64_t oct_attr_int(const oct_node *n, const char *name, int64_t def);
float oct_attr_float(const oct_node *n, const char *name, float def);
const char *oct_attr_str(const oct_node *n, const char *name, const char *def);
/* Number of ints (or floats), -1 when the attribute is absent. */
int64_t oct_attr_ints(const oct_node *n, const char *name, const int64_t **v);
int64_t oct_attr_floats(const oct_node *n, const char *name, const float **v);
const oct_tensor *oct_attr_tensor(const oct_node *n, const char *name);
void oct_attr_clear(oct_attr *a);
oct_status oct_attr_copy(oct_attr *dst, const oct_attr *src);

/* Orders live nodes topologically (Kahn), in place. Fails on a cycle or a
 * value consumed before any producer. */
oct_status oct_graph_toposort(oct_graph *g, oct_error *err);
/* Removes dead nodes and recomputes producers. */
void oct_graph_compact(oct_graph *g);
/* Recomputes value.producer from live nodes. */
void oct_graph_link(oct_graph *g);
/* Number of live consumers of each value (array of n_values, caller frees). */
int *oct_graph_use_counts(const oct_graph *g);

#endif
