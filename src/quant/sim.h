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
/* The fake-quantizing observer (user: the session's oct_sim); analysis
 * chains it with its own. */
oct_status oct_sim_observe(void *user, oct_graph *g, int node, int nv, const int *vals);
/* Applies value idx's plan precision to its data, in place. */
void oct_sim_apply(const oct_sim *s, oct_value *v, int idx);
/* Per value: the precision (oct_precision) the simulation applies; analysis
 * and tuning change it between runs of one session. NULL when idx is out of
 * range. */
unsigned char *oct_sim_precision(oct_sim *s, int idx);
float oct_sim_scale(const oct_sim *s, int idx);
/* Fake-quantizes the weight w of INT8 node n in place, as the simulation
 * does: per output channel (per tensor when per_tensor), symmetric, bits
 * (4, 6, 7 or 8) wide (quant/weights.h). */
void oct_sim_quantize_weight(const oct_node *n, oct_tensor *w, int per_tensor, int bits);

#endif
