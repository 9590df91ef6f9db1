/* The execution plan of a session: steps (kernels), layouts, the arena. */
#ifndef OCT_RUNTIME_EXEC_H
#define OCT_RUNTIME_EXEC_H

#include "runtime/backend.h"

typedef struct oct_plan_exec {
    oct_exec x;
    oct_kernel **steps;
    int n_steps, cap_steps;
    const oct_backend *backends[4];
    int n_backends;
    unsigned char *arena;
    size_t arena_bytes;
    int layout_cap;
    double *step_ms; /* accumulated per step when profiling (OCTET_PROFILE=1) */
    int runs;
} oct_plan_exec;

/* Builds kernels for every node of g (sorted, inferred), inserts layout
 * conversions and plans intermediate buffers. force_reference: only the
 * reference backend. */
/* keep (may be NULL): per value, 1 when the value must be materialised
 * (fusion may not absorb it), e.g. tensors a quantization plan names.
 * int8 (may be NULL): lets backends run INT8 kernels for the plan. */
oct_status oct_exec_build(oct_plan_exec *p, oct_graph *g, int threads, int force_reference, int verbose,
                          const unsigned char *keep, const oct_exec_int8 *int8, oct_error *err);
void oct_exec_free(oct_plan_exec *p);
/* Runs every step; the observer (may be NULL) is called after each step
 * with the values it wrote (layout copies excluded), and may modify them in
 * place (simulation). node_index is -1 for layout conversions. */
typedef oct_status (*oct_step_observer)(void *user, oct_graph *g, int node_index, int n_values,
                                        const int *values);
oct_status oct_exec_run(oct_plan_exec *p, oct_step_observer obs, void *user, oct_error *err);

/* Output preparation for kernels: planned buffers are kept (zeroed when
 * asked), others are (re)allocated. */
oct_status oct_exec_prepare_output(oct_tensor *t, int zero);
/* Creates a conversion kernel (cpu backend) from value `from` to `to`;
 * scale: the int8 scale when either side is OCT_LAYOUT_NHWC_Q8. */
oct_status oct_cpu_reorder_create(oct_exec *x, int from, oct_layout from_l, int to, oct_layout to_l,
                                  float scale, oct_kernel **k, oct_error *err);
/* The symmetric int8 scale of value v in an INT8 session, else 0. */
float oct_exec_act_scale(const oct_exec *x, int v);

#endif
