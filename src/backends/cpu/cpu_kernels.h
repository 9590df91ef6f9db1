/* The CPU backend's op table. */
#ifndef OCT_BACKENDS_CPU_KERNELS_H
#define OCT_BACKENDS_CPU_KERNELS_H

#include "runtime/backend.h"

typedef struct oct_cpu_op {
    const char *op_type;
    oct_status (*create)(oct_exec *x, int node, oct_kernel **k, oct_error *err);
} oct_cpu_op;

extern const oct_cpu_op oct_cpu_ops[];

/* Kernel constructors that other CPU kernels hand nodes to. */
oct_status oct_cpu_eltwise_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
/* QuantizeLinear -> DequantizeLinear pairs and Q/DQ SiLU blocks; passes
 * every QuantizeLinear it does not fuse on to oct_cpu_eltwise_create. */
oct_status oct_cpu_qdq_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);

#endif
