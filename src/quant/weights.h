/* Weight quantization shared by the simulation and the Q/DQ exporter, so an
 * exported int8 weight and the simulated one are the same numbers:
 * symmetric signed codes of 4, 6, 7 or 8 bits (qmax = 2^(bits-1) - 1: 7, 31,
 * 127), stored as int8, scale = max|W| / qmax per output channel (or per
 * tensor), codes rounded half to even and clamped to -qmax..qmax
 * (core/arith.h). */
#ifndef OCT_QUANT_WEIGHTS_H
#define OCT_QUANT_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "quant/plan.h"

/* Index of the input holding the weights of an op whose weights octet
 * quantizes (Conv, ConvTranspose, MatMul, Gemm: input 1), or -1. */
int oct_weight_input(const char *op_type);

/* The axis of a weight tensor of rank ndim that indexes output channels, for
 * per-channel scales; -1 means one scale for the whole tensor. group is the
 * Conv/ConvTranspose `group` attribute (1 when absent), trans_b Gemm's
 * `transB` (0 when absent).
 *   Conv [C_out, C_in/g, k...]               axis 0
 *   ConvTranspose [C_in, C_out/g, k...]      axis 1 when group == 1; per
 *       tensor when group > 1 (output channel g*(C_out/g)+j is not one index
 *       of any single axis)
 *   MatMul B [..., K, N]                     axis ndim-1 (rank >= 2), per
 *       tensor for a 1-D B
 *   Gemm B [K, N] (transB 0) / [N, K] (1)    axis 1 / axis 0
 * OCT_WEIGHTS_PER_TENSOR always gives -1; so does an op not listed above or
 * a rank the op does not take. */
int oct_weight_channel_axis(const char *op_type, int ndim, int64_t group, int64_t trans_b,
                            oct_weight_granularity granularity);

/* Number of scales a weight of this shape gets: dims[axis], or 1 when axis
 * is -1. Returns 0 when axis is out of range or the shape is invalid. */
size_t oct_weight_n_scales(int ndim, const int64_t *dims, int axis);

/* Quantizes a dense row-major float weight to bits (4, 6, 7 or 8) with
 * qmax = oct_qmax_bits(bits): scales[c] = oct_scale_sym(oct_amax_usable(
 * max |W_c|), qmax) (NaN ignored; an all-zero or unusable channel gets
 * amax 1.0, i.e. scale 1/qmax, which still codes 0 as 0), q[i] =
 * oct_quantize_sym(W[i], scale of i's channel, qmax). scales has
 * oct_weight_n_scales() entries; q (may be NULL: scales only) has numel.
 * Any other bits is OCT_E_INVALID_ARG. */
oct_status oct_weight_quantize_bits(const float *w, int ndim, const int64_t *dims, int axis,
                                    int bits, int8_t *q, float *scales, oct_error *err);

/* In place: w[i] = code * scale, the value the integer engine computes with
 * (the simulation's weights). Same scales and codes as above. */
oct_status oct_weight_fake_quant_bits(float *w, int ndim, const int64_t *dims, int axis, int bits,
                                      oct_error *err);

/* The 8-bit forms of the two above (bits = 8). */
oct_status oct_weight_quantize_s8(const float *w, int ndim, const int64_t *dims, int axis, int8_t *q,
                                  float *scales, oct_error *err);
oct_status oct_weight_fake_quant_s8(float *w, int ndim, const int64_t *dims, int axis, oct_error *err);

#endif
