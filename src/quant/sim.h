/* Plan simulation hooks used by the session. */
#ifndef OCT_QUANT_SIM_H
#define OCT_QUANT_SIM_H

#include "graph/ir.h"
#include "quant/plan.h"
#include "runtime/backend.h"

typedef struct oct_sim oct_sim;
struct oct_session;

/* Maps the plan onto the session graph (before its kernels are built):
 * precisions and scales per value, weights quantized in place, and the
 * values fusion must keep (*keep, malloc'ed, per value). real_int8: also
 * records what INT8 kernels need (oct_sim_int8): the weight scales of INT8
 * Conv nodes, taken before their weights are fake-quantized. */
oct_status oct_sim_prepare(oct_graph *g, const oct_plan *plan, int real_int8, oct_sim **out,
                           unsigned char **keep, oct_error *err);
/* The INT8 kernels' view of the plan; NULL unless prepared with real_int8. */
const oct_exec_int8 *oct_sim_int8(const oct_sim *s);
/* After the kernels are built: installs the fake-quantizing observer. */
oct_status oct_sim_attach(struct oct_session *s);
/* Before a run: quantizes the graph inputs the plan names. */
oct_status oct_sim_inputs(struct oct_session *s);
void oct_sim_free(oct_sim *s);
void oct_sim_quantize_weight(const oct_node *n, oct_tensor *w, int per_tensor);

#endif
