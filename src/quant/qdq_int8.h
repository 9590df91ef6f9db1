/* A Q/DQ model's quantized Conv / MatMul / Gemm nodes as facts for the
 * real INT8 kernels (src/quant/qdq_int8.c). */
#ifndef OCT_QUANT_QDQ_INT8_H
#define OCT_QUANT_QDQ_INT8_H

#include "runtime/backend.h"

typedef struct oct_qdq oct_qdq;

/* Finds, in the optimised graph g, the Conv / MatMul / Gemm nodes whose
 * activation input is DequantizeLinear(int8, scalar scale, zero point 0)
 * and whose weight was DequantizeLinear(int8 constant, per-tensor or
 * per-output-channel scales, zero point 0) in orig, the graph as imported.
 * *out (free with oct_qdq_free) must not outlive g. */
oct_status oct_qdq_prepare(const oct_graph *orig, const oct_graph *g, oct_qdq **out,
                           oct_error *err);
/* What the INT8 kernels read, or NULL when no node qualified. */
const oct_exec_int8 *oct_qdq_int8(const oct_qdq *q);
/* How many nodes qualified. */
int oct_qdq_folded(const oct_qdq *q);
void oct_qdq_free(oct_qdq *q);

#endif
