/* Internals of the post-training weight optimisation (src/quant/ptq*.c).
 *
 * A layer is seen as a matrix product per group: its output at one position
 * is W_g (R x K) times one input column (K) of group g; a Conv's columns are
 * its im2col patches, a Gemm's or MatMul's the rows of its input. AdaRound
 * samples columns; bias correction needs their mean over every position. */
#ifndef OCT_QUANT_PTQ_INTERNAL_H
#define OCT_QUANT_PTQ_INTERNAL_H

#include <stdint.h>

#include "core/error.h"
#include "graph/ir.h"

/* PTQ_DECONV: ConvTranspose, whose output position (oy, ox) reads input
 * (iy, ix) through tap (ki, kj) where oy = iy*s - p + ki*d: its column holds
 * x at the taps that land on a whole input position, 0 elsewhere. */
typedef enum { PTQ_CONV = 0, PTQ_ROWS = 1, PTQ_DECONV = 2 } ptq_kind;

typedef struct ptq_geom {
    ptq_kind kind;
    int G, R, K;       /* groups, rows (output channels) per group, column length */
    int64_t positions; /* output positions of one run: N*OH*OW, or the input's rows */
    /* PTQ_CONV / PTQ_DECONV, 2-D: input [N, C, H, W], output OH x OW */
    int64_t n, c, h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw;
} ptq_geom;

/* The geometry of node `node` of g (shapes inferred), or OCT_E_UNSUPPORTED
 * with the reason: Conv with 2 spatial axes, Gemm (transA 0, alpha 1), or
 * MatMul with a constant 2-D B. */
oct_status ptq_geom_get(const oct_graph *g, int node, ptq_geom *q, oct_error *err);

/* Copies the columns at positions pos[0..P) of input x (nhwc: channels-last
 * storage of the logical NCHW tensor) into dst: group g, element k of
 * column j goes to dst[(g*K + k)*ld + col0 + j]. Padding reads as 0. */
void ptq_gather(const ptq_geom *q, const float *x, int nhwc, const int64_t *pos, int P, float *dst,
                int64_t ld, int64_t col0);

/* acc[g*K + k] += sum over every position of column element (g, k). */
void ptq_column_sums(const ptq_geom *q, const float *x, int nhwc, double *acc);

/* How a layer stores its weight: as rows [G*R, K] already (Conv, Gemm
 * transB 1), as [K, N] (Gemm transB 0, MatMul), or as ConvTranspose's
 * [C_in, C_out/G, kh, kw]. */
typedef enum { PTQ_W_ROWS = 0, PTQ_W_KN = 1, PTQ_W_DECONV = 2 } ptq_wlayout;

/* Weight as rows [G*R, K] (row = output channel) from the layer's stored
 * weight, and back. */
void ptq_weight_to_rows(ptq_wlayout lay, const ptq_geom *q, const float *w, float *out);
void ptq_rows_to_weight(ptq_wlayout lay, const ptq_geom *q, const float *rows_w, float *out);

#endif
