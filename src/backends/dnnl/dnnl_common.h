/* Shared pieces of the oneDNN backend (v2 C API: *_desc_init, then
 * dnnl_primitive_desc_create). */
#ifndef OCT_BACKENDS_DNNL_COMMON_H
#define OCT_BACKENDS_DNNL_COMMON_H

#include <dnnl.h>

#include "runtime/exec.h"

typedef struct oct_dnnl {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    /* f32 scratch shared by the kernels (they run one at a time), grown
     * at run time: the p pass of a signed INT8 Conv writing int8 codes */
    float *scratch;
    size_t scratch_cap;
    /* the u8 (or s8) sources of the INT8 convolutions, shared likewise */
    unsigned char *src[2];
    size_t src_cap[2];
} oct_dnnl;

#define OCT_DNNL_MAX_ARGS 16
#define OCT_SLOT_IN(j) (j)
#define OCT_SLOT_OUT(o) (1000 + (o))

/* A prepared primitive with its run-time memory objects. */
typedef struct oct_dnnl_prim {
    dnnl_primitive_t prim;
    int n_args;
    dnnl_exec_arg_t args[OCT_DNNL_MAX_ARGS];
    /* which kernel slot feeds each arg: OCT_SLOT_IN(j) / OCT_SLOT_OUT(o),
     * or -1 for memory owned here (packed weights, bias). Slots, not value
     * indices, because the planner may redirect a kernel's inputs. */
    int arg_slot[OCT_DNNL_MAX_ARGS];
    char impl[96];
} oct_dnnl_prim;

oct_status oct_dnnl_check(dnnl_status_t s, const char *what, const char *node, oct_error *err);
/* Creates the primitive from a descriptor and records its implementation. */
oct_status oct_dnnl_prim_create(oct_dnnl_prim *p, const_dnnl_primitive_desc_t pd, oct_error *err);
/* Adds an argument bound to a kernel slot (handle set at run time). */
oct_status oct_dnnl_arg_slot(oct_dnnl *d, oct_dnnl_prim *p, int arg, const dnnl_memory_desc_t *md, int slot,
                             oct_error *err);
/* Adds an argument bound to memory owned by the primitive. */
oct_status oct_dnnl_arg_owned(oct_dnnl *d, oct_dnnl_prim *p, int arg, const dnnl_memory_desc_t *md,
                              dnnl_memory_t *mem, oct_error *err);
oct_status oct_dnnl_execute(oct_dnnl_prim *p, const oct_kernel *k, oct_exec *x, oct_error *err);
void oct_dnnl_prim_destroy(oct_dnnl_prim *p);
/* Copies plain data into a (possibly blocked) memory via a reorder. */
oct_status oct_dnnl_fill(oct_dnnl *d, dnnl_memory_t dst, const dnnl_memory_desc_t *plain_md, const void *data,
                         oct_error *err);

/* Convolution pieces shared by the FP32 (dnnl_conv.c) and INT8
 * (dnnl_conv_int8.c) kernels. */
typedef struct oct_dnnl_post_op {
    dnnl_alg_kind_t alg;
    float alpha, beta;
    int binary_value; /* >= 0: a residual Add with this value */
} oct_dnnl_post_op;

typedef struct oct_dnnl_conv_geom {
    int deconv, has_bias;
    int64_t group, N, C, H, W, OC, KH, KW, OH, OW;
    int64_t strides[2], dil[2], pl[2], pr[2]; /* dil: ONNX dilations (1 = dense) */
} oct_dnnl_conv_geom;

/* The node's Conv/ConvTranspose geometry as oneDNN takes it (4-D float
 * NCHW-shaped input, constant float weights and bias, static shapes);
 * returns 0 when oneDNN cannot run it. */
int oct_dnnl_conv_geometry(const oct_exec *x, int node, oct_dnnl_conv_geom *gm);
/* The same for ConvInteger / QLinearConv: 4-D uint8/int8 input in ONNX's
 * layout, constant 4-D uint8/int8 weights at input w_input; has_bias stays
 * 0 (the int32 bias is the caller's). */
int oct_dnnl_conv_geometry_integer(const oct_exec *x, int node, int w_input, oct_dnnl_conv_geom *gm);
/* The element-wise tail fused after the convolution: follows the
 * single-consumer chain (activations, SiLU as Sigmoid+Mul, a residual Add),
 * stopping at values the session must keep. Returns the number of post-ops
 * written to ops; the absorbed nodes and the value the fused kernel
 * finally writes (*out_value). */
int oct_dnnl_conv_fusion(const oct_exec *x, int node, oct_dnnl_post_op ops[8], int absorbed[8], int *n_absorbed,
                         int *out_value);
/* 1 when one of the n_ops eltwise post-ops is of kind alg. A chain must not
 * hold an eltwise kind twice: oneDNN 2.6's JIT kernels would run the second
 * with the first one's parameters. */
int oct_dnnl_post_ops_has_alg(const oct_dnnl_post_op *ops, int n_ops, dnnl_alg_kind_t alg);
/* Appends ops to po; residual Adds read a tensor described by dst_md. */
void oct_dnnl_append_post_ops(dnnl_post_ops_t po, const oct_dnnl_post_op *ops, int n_ops,
                              const dnnl_memory_desc_t *dst_md);

/* Kernel creators (one file each). */
oct_status oct_dnnl_conv_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
/* ConvTranspose with kernel == stride, no padding, one group: sgemm and a
 * scatter (dnnl_deconv_gemm.c); *k stays NULL for any other. */
oct_status oct_dnnl_deconv_gemm_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
/* Fills a fused convolution kernel's node, absorbed nodes, inputs (src and
 * the residual values of ops, channels-last) and its one channels-last output. */
void oct_dnnl_conv_wire(oct_kernel *k, int node, int src, const int *absorbed, int n_abs,
                        const oct_dnnl_post_op *ops, int n_ops, int out);
/* INT8 Conv and ConvTranspose for sessions with x->int8 (declines, *k NULL,
 * when the plan does not make the node an INT8 Conv / ConvTranspose on a
 * symmetric int8 input, or oneDNN has no exact INT8 kernel for it). */
oct_status oct_dnnl_conv_int8_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
/* INT8 MatMul / Gemm on a constant 2-D weight, same conditions and the same
 * u8 passes as the Conv (src/backends/dnnl/dnnl_matmul_int8.c). */
oct_status oct_dnnl_matmul_int8_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
/* Pieces the INT8 kernels share (defined in dnnl_conv_int8.c). 1 when
 * value v cannot hold a negative number (NaN aside): the op that produces
 * it clamps at 0 or above, so its int8 codes are 0..127 and one u8 pass
 * suffices. */
int oct_dnnl_nonnegative(const oct_graph *g, int v);
/* q = p - n, p and n in 0..128, over count codes (threaded). */
void oct_dnnl_q8_split(oct_pool *pool, const int8_t *q, uint8_t *p, uint8_t *n, int64_t count);
/* The f32 -> u8 reorder of kernel input 0 into buf with scale `scale`
 * (rounds to nearest even and saturates to 0..255; codes here never exceed
 * 128). */
oct_status oct_dnnl_int8_quantize(oct_dnnl *d, oct_dnnl_prim *p, const dnnl_memory_desc_t *f32_md,
                                  const dnnl_memory_desc_t *u8_md, float scale, void *buf,
                                  const char *node, oct_error *err);
/* Binds an argument to a buffer the kernel owns (the memory object goes
 * with the primitive, the buffer with the kernel). */
oct_status oct_dnnl_arg_buffer(oct_dnnl *d, oct_dnnl_prim *p, int arg, const dnnl_memory_desc_t *md,
                               void *buf, oct_error *err);
/* QLinearConv and ConvInteger on an f32 convolution of integer-valued
 * floats, bit-exact with the reference (dnnl_qconv.c); declines (*k NULL)
 * when a partial sum could reach 2^24 or the geometry does not fit. */
oct_status oct_dnnl_qconv_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
oct_status oct_dnnl_pool_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
oct_status oct_dnnl_matmul_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);

#endif
