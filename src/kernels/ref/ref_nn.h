/* Reference kernels for the neural-network ops (Conv, ConvTranspose, pools,
 * normalizations, Gemm/MatMul, Softmax family, Resize, DepthToSpace, Pad).
 *
 * The op files (src/ops) validate inputs and turn attributes and value
 * inputs into the plain parameter structs below (through the *_params
 * functions, which both `infer` and `run` call, so shapes and kernels can
 * never disagree); these kernels only compute. Tensors passed as outputs are
 * allocated with their final shape. Layout is always NC<spatial...>. */
#ifndef OCT_KERNELS_REF_REF_NN_H
#define OCT_KERNELS_REF_REF_NN_H

#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"
#include "ops/op.h"

/* ---- dtype staging ------------------------------------------------------
 * Kernels that are not data movement compute in float or double; these copy
 * a float32/float64/float16/bfloat16/int tensor into a malloc'ed buffer
 * (NULL on OOM; the caller frees it) and back (rounding through arith.h). */
int oct_nn_is_real(oct_dtype dt); /* float32, float64, float16, bfloat16 */
double *oct_nn_load_f64(const oct_tensor *t);
float *oct_nn_load_f32(const oct_tensor *t);
void oct_nn_store_f64(oct_tensor *t, const double *v);
void oct_nn_store_f32(oct_tensor *t, const float *v);

/* ---- sliding windows (Conv, ConvTranspose, pools) ------------------------ */
typedef struct oct_nn_window {
    int nsp;                        /* spatial rank */
    int64_t in[OCT_MAX_DIMS];       /* input spatial dims */
    int64_t out[OCT_MAX_DIMS];      /* output spatial dims */
    int64_t kernel[OCT_MAX_DIMS];
    int64_t stride[OCT_MAX_DIMS];
    int64_t dil[OCT_MAX_DIMS];
    int64_t pad_b[OCT_MAX_DIMS];    /* padding at the start of each axis */
    int64_t pad_e[OCT_MAX_DIMS];    /* at the end (may be < 0: ignored tail) */
} oct_nn_window;

typedef enum oct_nn_autopad {
    OCT_AUTOPAD_NOTSET,
    OCT_AUTOPAD_SAME_UPPER,
    OCT_AUTOPAD_SAME_LOWER,
    OCT_AUTOPAD_VALID
} oct_nn_autopad;

/* Reads the strides, dilations, pads and auto_pad attributes for nsp
 * spatial axes into w (defaults 1, 1, 0); checks their counts and ranges. */
oct_status oct_nn_window_attrs(const oct_opctx *c, int nsp, oct_nn_window *w,
                               oct_nn_autopad *ap);
/* oct_nn_window_attrs, then the output size of a Conv or pool sliding
 * window over in[nsp] with the given kernel (ceil_mode: pools). Fails when
 * the window does not fit. */
oct_status oct_nn_window_params(const oct_opctx *c, int nsp, const int64_t *in,
                                const int64_t *kernel, int ceil_mode, oct_nn_window *w);

/* ---- Conv / ConvTranspose ------------------------------------------------ */
typedef struct oct_conv_params {
    int64_t n, c, m, group;         /* batch, in channels, out channels */
    oct_nn_window w;
} oct_conv_params;

oct_status oct_conv_params_get(const oct_opctx *c, oct_conv_params *p);
oct_status oct_conv_transpose_params_get(const oct_opctx *c, oct_conv_params *p);
/* y[n, m, o...] = b[m] + sum x * w; float32 buffers. b may be NULL.
 * Fails only on allocation. */
oct_status oct_ref_conv_f32(const oct_conv_params *p, const float *x, const float *w,
                            const float *b, float *y);
/* ConvTranspose: w is [C, M/group, k...]; p->w.in is the input (the small)
 * side, p->w.out the output side. */
void oct_ref_conv_transpose_f32(const oct_conv_params *p, const float *x, const float *w,
                                const float *b, float *y);

/* ---- pools --------------------------------------------------------------- */
typedef enum oct_pool_kind { OCT_POOL_MAX, OCT_POOL_AVG } oct_pool_kind;
typedef struct oct_pool_params {
    oct_pool_kind kind;
    int64_t n, c;
    int count_include_pad;
    int storage_order;              /* Indices: 0 row major, 1 column major */
    double lowest;                  /* MaxPool of a window without input */
    oct_nn_window w;
} oct_pool_params;

oct_status oct_pool_params_get(const oct_opctx *c, oct_pool_kind kind, oct_pool_params *p);
/* x, y: n*c*spatial doubles. idx (int64, may be NULL): MaxPool Indices. */
void oct_ref_pool(const oct_pool_params *p, const double *x, double *y, int64_t *idx);
/* Global pools: x is [outer, inner], y[outer] = max or mean over inner. */
void oct_ref_global_pool(oct_pool_kind kind, int64_t outer, int64_t inner, const double *x,
                         double *y);

/* ---- normalizations ------------------------------------------------------ */
/* y = (x - mean) / sqrt(var + eps) * scale + bias per channel: x is
 * [n, c, inner]; the per-channel arrays have c * pinner entries, pinner being
 * 1 (per channel) or inner (BatchNormalization spatial=0). */
void oct_ref_batchnorm(int64_t n, int64_t c, int64_t inner, int64_t pinner, const double *x,
                       const double *scale, const double *bias, const double *mean,
                       const double *var, double eps, double *y);
/* Training-mode statistics: per-channel batch mean and (biased) variance. */
void oct_ref_channel_moments(int64_t n, int64_t c, int64_t inner, const double *x, double *mean,
                             double *var);
/* Normalizes each of `outer` rows of `inner` values: y = (x - mean) *
 * invstd * scale[i] + bias[i] (scale and bias already broadcast to `inner`;
 * bias may be NULL). mean_out/inv_out (may be NULL) receive the per-row mean
 * and 1/sqrt(var + eps). */
void oct_ref_layernorm(int64_t outer, int64_t inner, const double *x, const double *scale,
                       const double *bias, double eps, double *y, double *mean_out,
                       double *inv_out);
/* InstanceNormalization: x [n, c, inner], per-channel scale and bias. */
void oct_ref_instancenorm(int64_t n, int64_t c, int64_t inner, const double *x,
                          const double *scale, const double *bias, double eps, double *y);
/* LRN over channels of x [n, c, inner]. */
void oct_ref_lrn(int64_t n, int64_t c, int64_t inner, const double *x, int64_t size,
                 double alpha, double beta, double bias, double *y);

/* ---- Gemm / MatMul ------------------------------------------------------- */
/* y[M,N] = alpha * op(a) op(b) + beta * c, c broadcast from [cm, cn] (each 1
 * or the full size; c may be NULL). a is [M,K] ([K,M] when ta). */
void oct_ref_gemm(int64_t M, int64_t N, int64_t K, int ta, int tb, double alpha,
                  const double *a, const double *b, double beta, const double *cc,
                  int64_t cm, int64_t cn, double *y);
/* One matrix product y[M,N] = a[M,K] b[K,N] (dense, row major); the float
 * and int forms accumulate in double and int64. */
void oct_ref_matmul_f64(int64_t M, int64_t N, int64_t K, const double *a, const double *b,
                        double *y);
void oct_ref_matmul_f32(int64_t M, int64_t N, int64_t K, const float *a, const float *b,
                        float *y);
void oct_ref_matmul_i64(int64_t M, int64_t N, int64_t K, const int64_t *a, const int64_t *b,
                        int64_t *y);

/* ---- Softmax family ------------------------------------------------------ */
typedef enum oct_softmax_kind { OCT_SOFTMAX, OCT_LOGSOFTMAX, OCT_HARDMAX } oct_softmax_kind;
/* x viewed as [outer, n, inner], reduced along n. */
void oct_ref_softmax(oct_softmax_kind kind, int64_t outer, int64_t n, int64_t inner,
                     const double *x, double *y);

/* ---- Resize / Upsample --------------------------------------------------- */
typedef enum oct_resize_mode { OCT_RESIZE_NEAREST, OCT_RESIZE_LINEAR, OCT_RESIZE_CUBIC } oct_resize_mode;
typedef enum oct_resize_coord {
    OCT_COORD_HALF_PIXEL,
    OCT_COORD_HALF_PIXEL_SYMMETRIC,
    OCT_COORD_PYTORCH_HALF_PIXEL,
    OCT_COORD_ALIGN_CORNERS,
    OCT_COORD_ASYMMETRIC,
    OCT_COORD_TF_HALF_PIXEL_FOR_NN,
    OCT_COORD_TF_CROP_AND_RESIZE
} oct_resize_coord;
typedef enum oct_resize_nearest {
    OCT_NEAREST_ROUND_PREFER_FLOOR,
    OCT_NEAREST_ROUND_PREFER_CEIL,
    OCT_NEAREST_FLOOR,
    OCT_NEAREST_CEIL,
    OCT_NEAREST_SIMPLE              /* opset < 11: ceil when shrinking, else truncate */
} oct_resize_nearest;
typedef struct oct_resize_params {
    int ndim;
    int64_t in[OCT_MAX_DIMS], out[OCT_MAX_DIMS];
    float scale[OCT_MAX_DIMS];      /* per axis, as used by the coordinate maps */
    float roi_start[OCT_MAX_DIMS], roi_end[OCT_MAX_DIMS];
    oct_resize_mode mode;
    oct_resize_coord coord;
    oct_resize_nearest nearest;
    float cubic_a;
    int exclude_outside;
    float extrapolation;
} oct_resize_params;

/* Resize (all opsets) and Upsample. */
oct_status oct_resize_params_get(const oct_opctx *c, oct_resize_params *p);
oct_status oct_upsample_params_get(const oct_opctx *c, oct_resize_params *p);
/* Fails only on allocation. */
oct_status oct_ref_resize(const oct_resize_params *p, const double *x, double *y);

/* ---- DepthToSpace / SpaceToDepth ----------------------------------------- */
/* Element-size agnostic. crd: DepthToSpace CRD mode. x is [n, c, h, w] (of
 * the input); blocks of b. */
void oct_ref_depth_to_space(const oct_tensor *x, int64_t b, int crd, oct_tensor *y);
void oct_ref_space_to_depth(const oct_tensor *x, int64_t b, oct_tensor *y);

/* ---- Pad ----------------------------------------------------------------- */
typedef enum oct_pad_mode { OCT_PAD_CONSTANT, OCT_PAD_REFLECT, OCT_PAD_EDGE, OCT_PAD_WRAP } oct_pad_mode;
/* pads[2*rank] (begin..., end...), may be negative (crop). value: one element
 * of y's dtype (constant mode). Element-size agnostic. Fails only on
 * allocation. */
oct_status oct_ref_pad(const oct_tensor *x, const int64_t *pads, oct_pad_mode mode,
                       const void *value, oct_tensor *y);

#endif
