/* Graph passes run when a session is created. */
#ifndef OCT_GRAPH_PASSES_H
#define OCT_GRAPH_PASSES_H

#include "graph/ir.h"

/* Shape and dtype inference over the sorted graph; with fold=1 also constant
 * folding (nodes whose inputs are all constant, and Shape/Size of tensors
 * with known shapes, become constants). Nodes whose output shapes depend on
 * run-time values are marked dynamic. Unsupported ops leave their outputs
 * unknown; strict=1 makes them an error. */
oct_status oct_pass_infer(oct_graph *g, int fold, int strict, oct_error *err);
/* Removes nodes none of whose outputs is used. */
int oct_pass_dead_nodes(oct_graph *g);
/* Bypasses Identity (and inference-mode Dropout) nodes. */
int oct_pass_identity(oct_graph *g);
/* Folds BatchNormalization into a preceding Conv with constant weights. */
int oct_pass_fold_batchnorm(oct_graph *g, oct_error *err);
/* Folds Add of a per-channel constant into the preceding Conv's bias. */
int oct_pass_fold_conv_add(oct_graph *g);
/* All of the above in order; returns the first error. */
oct_status oct_graph_optimize(oct_graph *g, int fold, oct_error *err);

#endif
