/* The CPU backend's op table. */
#ifndef OCT_BACKENDS_CPU_KERNELS_H
#define OCT_BACKENDS_CPU_KERNELS_H

#include "runtime/backend.h"

typedef struct oct_cpu_op {
    const char *op_type;
    oct_status (*create)(oct_exec *x, int node, oct_kernel **k, oct_error *err);
    const char *domain; /* NULL: the default ONNX domain */
} oct_cpu_op;

extern const oct_cpu_op oct_cpu_ops[];

/* Kernel constructors that other CPU kernels hand nodes to. */
oct_status oct_cpu_eltwise_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
/* QuantizeLinear -> DequantizeLinear pairs and Q/DQ SiLU blocks; passes
 * every QuantizeLinear it does not fuse on to oct_cpu_eltwise_create. */
oct_status oct_cpu_qdq_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
/* DynamicQuantizeLinear (default domain) and com.microsoft QLinearAdd /
 * QLinearMul (cpu_qlinear.c); each declines nodes of another domain. */
oct_status oct_cpu_dynquant_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
oct_status oct_cpu_qlinear_binary_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);

#endif
