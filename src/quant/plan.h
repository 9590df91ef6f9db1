/* The quantization plan: a scale and a precision for every tensor and node.
 * Serialized as versioned JSON (docs/plan-format.md). This header is the
 * in-memory form shared by calibration, simulation, analysis, tuning and the
 * exporters. */
#ifndef OCT_QUANT_PLAN_H
#define OCT_QUANT_PLAN_H

#include <stdint.h>

#include "core/error.h"
#include "octet/quant.h"

#define OCT_PLAN_VERSION 1

/* oct_precision, oct_precision_name and oct_precision_parse are public
 * (octet/quant.h). */

/* Statistics summary kept with each tensor (informational; editing it does
 * not change the plan's meaning). */
typedef struct oct_tensor_stats {
    double min, max, absmax;
    double p9999;        /* 99.99th percentile of |x| */
    int64_t count;       /* values observed */
    int64_t nan_count;   /* NaN/Inf seen */
} oct_tensor_stats;

typedef struct oct_plan_tensor {
    char *name;            /* ONNX tensor name */
    oct_precision precision;
    double amax;           /* threshold: the range [-amax, amax] (symmetric) */
    float scale;           /* int8 step: amax / 127 (symmetric) */
    int32_t zero_point;    /* 0 for symmetric int8; 0..255 for asymmetric uint8 */
    int is_unsigned;       /* 1: asymmetric uint8 (scale, zero_point) */
    double min, max;       /* asymmetric range (when is_unsigned) */
    int has_stats;
    oct_tensor_stats stats;
    char *method;          /* calibrator that chose amax (NULL: plan default) */
} oct_plan_tensor;

typedef struct oct_plan_node {
    char *name;            /* ONNX node name */
    char *op_type;
    oct_precision precision;
} oct_plan_node;

typedef enum oct_weight_granularity {
    OCT_WEIGHTS_PER_CHANNEL = 0,
    OCT_WEIGHTS_PER_TENSOR = 1
} oct_weight_granularity;

typedef struct oct_plan {
    int version;
    char model_sha256[65];
    char *model_path;
    /* calibration settings, as given */
    char *method;          /* minmax, entropy, percentile:99.99, mse, auto */
    char *scheme;          /* all, compute */
    int count;             /* images used */
    char *data;            /* calibration folder */
    char *preprocess;      /* human-readable preprocessing description */
    int asymmetric;        /* activations uint8 with zero points */
    oct_weight_granularity weights;
    int weight_bits;       /* 4, 6, 7 or 8 (0 in memory: 8); quant/weights.h */
    int n_tensors;
    oct_plan_tensor *tensors;
    int n_nodes;
    oct_plan_node *nodes;
    /* The "ptq" section as JSON text (octet/ptq.h: what AdaRound, bias
     * correction and CLE did; informational), NULL when absent. */
    char *ptq_json;
} oct_plan;

/* The width of the plan's INT8 nodes' weights: weight_bits, with 0 (a plan
 * filled in by hand in memory) read as 8. Not necessarily valid: see
 * oct_weight_bits_valid (core/arith.h). */
static inline int oct_plan_weight_bits(const oct_plan *p) {
    return p->weight_bits ? p->weight_bits : 8;
}

oct_plan *oct_plan_new(void);
void oct_plan_free(oct_plan *p);
/* Adds (or finds) a tensor / node entry by name; returns its index or -1. */
int oct_plan_add_tensor(oct_plan *p, const char *name);
int oct_plan_add_node(oct_plan *p, const char *name, const char *op_type);
int oct_plan_find_tensor(const oct_plan *p, const char *name);
int oct_plan_find_node(const oct_plan *p, const char *name);
/* A deep copy; NULL when out of memory. */
oct_plan *oct_plan_clone(const oct_plan *p);

/* JSON I/O. load validates the format, version, every field's type and
 * value range; errors name the field (and tensor/node). */
oct_status oct_plan_save(const oct_plan *p, const char *path, oct_error *err);
oct_status oct_plan_load(const char *path, oct_plan **out, oct_error *err);

#endif
