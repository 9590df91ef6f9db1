/* The CPU backend's op table. */
#ifndef OCT_BACKENDS_CPU_KERNELS_H
#define OCT_BACKENDS_CPU_KERNELS_H

#include "runtime/backend.h"

typedef struct oct_cpu_op {
    const char *op_type;
    oct_status (*create)(oct_exec *x, int node, oct_kernel **k, oct_error *err);
} oct_cpu_op;

extern const oct_cpu_op oct_cpu_ops[];

#endif
