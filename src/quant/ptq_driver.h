/* The state of one oct_ptq_optimize call (src/quant/ptq.c, ptq_layers.c). */
#ifndef OCT_QUANT_PTQ_DRIVER_H
#define OCT_QUANT_PTQ_DRIVER_H

#include <stddef.h>

#include "octet/ptq.h"
#include "quant/analyze.h"
#include "quant/plan.h"
#include "quant/ptq_internal.h"

typedef struct ptq_layer {
    oct_ptq_layer log;
    int active; /* 0: skipped (log.skipped says why) */
    ptq_geom q;
    char *w_name;     /* the model initializer holding the weight */
    char *x_name;     /* the input value */
    ptq_wlayout wlay; /* how the weight is stored */
    size_t w_numel;
    float *w;          /* FP32 weight as rows [G*R, K] */
    float *scale;      /* per row */
    const float *bias; /* the model's bias (NULL: none), borrowed from m0 */
    char *bias_node;   /* Conv/Gemm: the node whose bias input is set */
    char *bias_tensor; /* MatMul: the Add constant that holds its bias */
    int per_img, M;    /* columns per image, in all */
    float *y;          /* AdaRound targets [G*R, M]: W x of the FP32 network */
    float *x;          /* the quantized network's columns [G, K, M] */
    double *sums;      /* bias correction: column sums [G*K] */
    int64_t n_sums;    /* positions summed */
    double ada_ms;     /* of log.ms: AdaRound's optimisation */
} ptq_layer;

typedef struct ptq_ctx {
    oct_ptq_options opt;
    const oct_plan *plan;
    const oct_model *m0; /* the model as given */
    oct_session *fp;     /* its FP32 session: graph, shapes, targets */
    const oct_sample_cache *samples;
    int n_images;
    ptq_layer *layers;
    int n_layers, n_levels;
    int qmax;
} ptq_ctx;

oct_status ptq_layers_setup(ptq_ctx *c, oct_error *err);
void ptq_layers_free(ptq_ctx *c);

#endif
