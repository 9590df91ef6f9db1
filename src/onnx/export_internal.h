/* Internal to the Q/DQ exporter: its state, shared by onnx_export.c
 * (activations, assembly, I/O) and export_weights.c (weights, BN folding). */
#ifndef OCT_ONNX_EXPORT_INTERNAL_H
#define OCT_ONNX_EXPORT_INTERNAL_H

#include "onnx/opset_upgrade.h"
#include "quant/plan.h"

/* What the exporter knows about one tensor name of the graph. */
typedef struct oct_qx_tensor {
    const char *name;
    Onnx__TensorProto *init;    /* initializer (or a folded weight, never written) */
    Onnx__NodeProto *producer;  /* node producing it */
    size_t out_index;           /* which output of the producer */
    int is_input, is_output;    /* graph input / output */
    int plan;                   /* plan tensor index when int8, else -1 */
    char *repl;                 /* what its consumers read instead */
    int replaced;               /* a constant superseded by a quantized or
                                   folded copy: dropped once nothing reads it */
} oct_qx_tensor;

typedef struct oct_qx_wcache {
    const char *weight;
    int axis;
    char *dq;
} oct_qx_wcache;

typedef struct oct_qx {
    oct_pedit pe;
    Onnx__ModelProto *mp;
    const oct_plan *plan;
    oct_graph *shapes;   /* shape-inferred graph, or NULL */
    oct_xlist nodes;     /* body, in order */
    oct_pvec head;       /* nodes that go first: weight and input DequantizeLinear */
    oct_pvec inits;      /* initializers added */
    oct_smap tensors;    /* name -> oct_qx_tensor */
    oct_qx_wcache *wc;
    size_t n_wc;
    oct_error *err;
} oct_qx;

oct_status oct_qx_nomem(oct_qx *x);
/* The entry for a tensor name (created when asked; NULL for ""). */
oct_qx_tensor *oct_qx_find(oct_qx *x, const char *name, int create);
/* The constant float32 tensor a name holds (initializer or Constant node
 * value), or NULL. */
const Onnx__TensorProto *oct_qx_constant(oct_qx *x, const char *name);
/* Appends a new initializer; NULL when t is NULL or memory runs out. */
Onnx__TensorProto *oct_qx_push_init(oct_qx *x, Onnx__TensorProto *t);
int64_t oct_qx_attr_int(const Onnx__NodeProto *n, const char *name, int64_t def);

/* Folds BatchNormalization into the int8 Convs before it, as octet's
 * session does (graph/passes.c), so the weights quantized are the same. */
oct_status oct_qx_fold_bn(oct_qx *x);
/* int8 weights behind DequantizeLinear for the int8 weight-bearing nodes. */
oct_status oct_qx_weights(oct_qx *x);

#endif
