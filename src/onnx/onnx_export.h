/* Q/DQ ONNX export of a quantization plan (docs/qdq-export.md).
 *
 * The original ModelProto is re-read and rewritten:
 *  - every tensor the plan makes int8 (a graph input or a node output) gets
 *    QuantizeLinear -> DequantizeLinear where it is produced, and every
 *    consumer reads the DequantizeLinear output: the tensor is fake-quantized
 *    once, where it is produced, as octet's simulation does. A graph output
 *    keeps its name on the DequantizeLinear output.
 *  - Conv, ConvTranspose, MatMul and Gemm nodes the plan makes int8 get
 *    their constant float weight (initializer or Constant node) stored as
 *    int8 and read through DequantizeLinear (per output channel, or per
 *    tensor as the plan says; quant/weights.h computes the codes).
 *  - models below opset 13 are upgraded to 13 first (onnx/opset_upgrade.c).
 * New tensors and nodes are named "<tensor>_QuantizeLinear",
 * "<tensor>_DequantizeLinear", "<tensor>_scale", "<tensor>_zero_point",
 * "<weight>_quantized", ...; original node names are kept. */
#ifndef OCT_ONNX_EXPORT_H
#define OCT_ONNX_EXPORT_H

#include "octet/octet.h"
#include "quant/plan.h"

/* shapes (n_shapes may be 0) fix dynamic input dimensions for the shape
 * inference the export uses to check element types and ranks; without them
 * a model with dynamic inputs is exported from what the file says. */
oct_status oct_export_qdq(const char *model_path, const oct_plan *plan, int n_shapes,
                          const oct_input_shape *shapes, const char *out_path, oct_error *err);

#endif
