/* Internal to the exporters: the node list being rewritten and the
 * default-domain opset upgrade to 13 (what per-channel DequantizeLinear
 * needs). */
#ifndef OCT_ONNX_OPSET_UPGRADE_H
#define OCT_ONNX_OPSET_UPGRADE_H

#include "graph/ir.h"
#include "onnx/proto_edit.h"

typedef struct oct_xnode {
    Onnx__NodeProto *np;
    const char *key; /* the node's name as octet's importer and plans know it
                        (generated "<op>_<index>" when the file has none);
                        NULL for nodes the exporter added */
    int qdq;         /* a Q/DQ node the exporter inserted: its inputs are
                        never re-wired to read a quantized tensor */
} oct_xnode;

typedef struct oct_xlist {
    oct_xnode *v;
    size_t n, cap;
} oct_xlist;
int oct_xlist_push(oct_xlist *l, Onnx__NodeProto *np, const char *key, int qdq);
void oct_xlist_free(oct_xlist *l);

/* Default-domain opset of the model (1 when it imports none, as IR 1-2
 * models predate opset_import: treated as too old). */
int64_t oct_model_proto_opset(const Onnx__ModelProto *mp);

/* Rewrites the nodes of a default-domain opset 7..12 model for opset 13 and
 * sets the model's opset (13) and IR version (>= 7). New nodes replace
 * their original in *nodes; new initializers are appended to inits.
 * shapes (may be NULL) is a shape-inferred graph of the same model: it gives
 * the ranks and element types some conversions need. A node whose meaning
 * changed and that is not converted fails with its name and op. */
oct_status oct_opset_upgrade13(oct_pedit *pe, Onnx__ModelProto *mp, oct_xlist *nodes, oct_pvec *inits,
                               const oct_graph *shapes, oct_error *err);

#endif
