/* Internal definitions of the public handles. */
#ifndef OCT_RUNTIME_RUNTIME_H
#define OCT_RUNTIME_RUNTIME_H

#include "graph/ir.h"
#include "runtime/exec.h"
#include "octet/octet.h"

struct oct_model {
    oct_graph *g; /* as imported: sorted, nothing folded */
    char sha256[65];
    char *path;
};

/* Observer called after each node of a run, with the node and its outputs
 * (used by calibration and analysis). Return non-OK to stop the run. */
typedef oct_step_observer oct_node_observer;

struct oct_session {
    const oct_model *model;
    oct_graph *g;     /* the session's own optimised graph */
    int threads;
    int verbose;
    int ran;
    oct_plan_exec exec;
    oct_node_observer observer;
    void *observer_user;
    struct oct_sim *sim; /* plan simulation, NULL when plain FP32 */
    struct oct_qdq *qdq; /* a Q/DQ model's INT8 nodes (quant/qdq_int8.c), or NULL */
    unsigned char *keep;
};

/* Applies shapes to a fresh clone of the model's graph and optimises it. */
oct_status oct_session_prepare_graph(const oct_model *m, const oct_session_options *o, int fold,
                                     oct_graph **out, oct_error *err);

/* Estimated FLOPs of one node with known shapes (a multiply-add counts 2). */
double oct_node_flops(const oct_graph *g, const oct_node *n);

#endif
