/* AdaRound (Nagel et al. 2020, "Up or Down? Adaptive Rounding for
 * Post-Training Quantization") for one layer, given as matrices: it chooses,
 * per weight, whether to round down or up so that the quantized layer
 * reproduces the FP32 layer's outputs on calibration data, rather than each
 * weight's own value. The math follows the paper and AIMET's implementation
 * (rectified sigmoid, zeta 1.1, gamma -0.1; reconstruction loss summed over
 * output channels and averaged over samples; rounding regularizer with
 * AIMET's cosine beta schedule after a warm-up; Adam on V).
 *
 * The caller (the PTQ driver) collects the data: X is what the quantized
 * network feeds the layer (im2col columns for a Conv), Y what the FP32 layer
 * outputs at the same columns, bias subtracted. */
#ifndef OCT_QUANT_ADAROUND_H
#define OCT_QUANT_ADAROUND_H

#include <stdint.h>

#include "core/error.h"

typedef struct oct_adaround_params {
    int iters;                  /* optimizer steps (paper/AIMET: 10000) */
    int batch;                  /* columns per step, 1024; min(batch, M) is used */
    float reg_weight;           /* lambda of the rounding regularizer, 0.01 */
    float beta_start, beta_end; /* regularizer exponent, annealed 20 -> 2; both >= 1 */
    float warmup;               /* fraction of iters without the regularizer, 0.2 */
    float lr;                   /* Adam learning rate, 1e-3 */
    uint64_t seed;              /* batch sampling; a fixed seed gives fixed codes */
} oct_adaround_params;

void oct_adaround_params_init(oct_adaround_params *p);

/* One layer of G groups (G = 1 for a plain Conv/Gemm/MatMul, the group count
 * for a grouped or depthwise Conv), R output channels per group, K inputs
 * per output, M data columns:
 *   w      [G*R, K] row-major weights; rows g*R .. g*R+R-1 belong to group g
 *   scale  [G*R] per-row step (> 0, finite); per-tensor quantization passes
 *          the same value in every row
 *   qmax   127, 31 or 7: codes are -qmax .. qmax
 *   x      [G, K, M] row-major: group g's inputs
 *   y      [G*R, M] targets at the same columns
 *   p      NULL for the defaults
 *   codes  [G*R, K] out: the chosen codes
 *   mse_rtn, mse_ada  out (each may be NULL): mean over all G*R*M outputs of
 *          (s * codes X - Y)^2 on all M columns, with round-to-nearest codes
 *          (clamp(round_half_even(w / s), -qmax, qmax)) and with the result.
 * Every code is floor(w / s) or floor(w / s) + 1, clamped to +-qmax, except
 * that a weight whose round-to-nearest code is +-qmax keeps that code and is
 * held there during the optimization too: the caller re-derives each
 * channel's scale from max |W| of the quantized weights, so the extreme code
 * must not move (and a weight clipped by a per-tensor scale stays clipped).
 * Deterministic for a fixed seed and thread count. Returns OCT_E_INVALID_ARG
 * on bad sizes, parameters or non-finite data, OCT_E_NOMEM, or
 * OCT_E_RUNTIME if oneDNN's sgemm fails or the optimization diverges (values so
 * large that the products overflow float). */
oct_status oct_adaround_layer(const float *w, int G, int R, int K, const float *scale, int qmax,
                              const float *x, const float *y, int M, const oct_adaround_params *p,
                              int8_t *codes, double *mse_rtn, double *mse_ada, oct_error *err);

/* For tests: one group (w [R, K], scale [R], x [K, M], y [R, M]) at the
 * rounding variables v [R*K], the whole of M as the batch.
 *   loss   out: recon + (reg_on ? reg_weight * round : 0), computed plainly
 *          in double from the float inputs (for finite differences)
 *   grad   out (may be NULL) [R*K]: dL/dv from the optimizer's own code
 *          (float, the same sgemm calls and elementwise passes as
 *          oct_adaround_layer uses in every step); 0 for the weights held
 *          at +-qmax, which are also left out of the regularizer. */
oct_status oct_adaround_loss_grad(const float *w, int R, int K, const float *scale, int qmax,
                                  const float *v, const float *x, const float *y, int M, float beta,
                                  float reg_weight, int reg_on, double *loss, float *grad,
                                  oct_error *err);

/* The V that makes the soft rounding equal the weight's own fraction,
 * h(V) = w/s - floor(w/s): where the optimizer starts. */
float oct_adaround_init_v(float w_over_s);

#endif
