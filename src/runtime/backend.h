/* Backends and the execution plan.
 *
 * A session's graph runs as a list of steps. Each step is a kernel that one
 * backend created for one node, possibly absorbing the nodes that follow it
 * (Conv + SiLU + Add run as one oneDNN primitive). Backends are tried in
 * order (oneDNN, the threaded CPU kernels, then the reference), and the
 * first that accepts a node wins, as in oneDNN's implementation lists.
 *
 * Tensors between steps are in ONNX's plain row-major layout, or, for 4-D
 * float tensors produced by fast kernels, channels-last (NHWC), which the
 * oneDNN convolutions run fastest on. A kernel states the layouts it accepts
 * and produces; the planner inserts reorders where they differ. */
#ifndef OCT_RUNTIME_BACKEND_H
#define OCT_RUNTIME_BACKEND_H

#include "graph/ir.h"
#include "runtime/threadpool.h"

/* NHWC_Q8: a 4-D INT8 tensor kept as its int8 codes, channels-last,
 * code = clamp(round_half_even(x / act_scale[v]), -128, 127) (runtime INT8
 * sessions, between INT8 kernels). While a value is stored so its tensor's
 * dtype is OCT_INT8; readers that do not accept it get a float copy. */
typedef enum oct_layout { OCT_LAYOUT_PLAIN = 0, OCT_LAYOUT_NHWC = 1, OCT_LAYOUT_NHWC_Q8 = 2 } oct_layout;

#define OCT_ACCEPT_PLAIN 1
#define OCT_ACCEPT_NHWC 2
#define OCT_ACCEPT_NHWC_Q8 4

#define OCT_KERNEL_MAX_IN 64
#define OCT_KERNEL_MAX_OUT 16

typedef struct oct_exec oct_exec;
typedef struct oct_kernel oct_kernel;

/* What real INT8 kernels need from a quantization plan (sessions made by
 * oct_session_create_int8; NULL in float and simulated sessions). Filled by
 * the simulation (quant/simulate.c), which still fake-quantizes every INT8
 * tensor where it is produced, so an INT8 kernel reads an input whose values
 * are exact multiples of its scale. */
typedef struct oct_exec_int8 {
    int n_values, n_nodes;
    /* per value: the symmetric int8 scale of an INT8 plan tensor, 0 for any
     * other value (fp32/fp16/bf16, asymmetric uint8) */
    const float *act_scale;
    /* per node: the per-output-channel weight scales (quant/weights.h) of
     * an INT8 Conv, or an INT8 MatMul / Gemm with a 2-D weight (one per
     * output column), whose weights the simulation quantized, else NULL;
     * the graph holds the fake-quantized weights code * scale */
    float *const *w_scales;
    const int *n_w_scales; /* per node: entries of w_scales[node] */
    /* per value, set by a kernel that writes the value already
     * fake-quantized with its act_scale (the observer then skips it) */
    unsigned char *kernel_quantized;
} oct_exec_int8;

struct oct_kernel {
    const char *impl;            /* e.g. "dnnl:jit:avx2", "cpu", "ref" */
    int node;                    /* the node it runs */
    int n_absorbed;              /* nodes fused into it (run by this kernel) */
    int absorbed[8];
    int n_in, n_out;
    int in_values[OCT_KERNEL_MAX_IN];   /* value indices read (after fusion) */
    int out_values[OCT_KERNEL_MAX_OUT]; /* value indices written */
    unsigned in_accept[OCT_KERNEL_MAX_IN]; /* OCT_ACCEPT_* per input */
    oct_layout out_layout[OCT_KERNEL_MAX_OUT];
    int zero_outputs;            /* outputs must arrive zero-filled */
    oct_status (*run)(oct_kernel *k, oct_exec *x, oct_error *err);
    void (*destroy)(oct_kernel *k);
};

/* What a kernel sees at run time. */
struct oct_exec {
    oct_graph *g;
    oct_layout *layout; /* per value */
    oct_pool *pool;
    int threads;
    void *dnnl;         /* the oneDNN engine and stream (backends/dnnl) */
    const unsigned char *keep; /* values fusion must not absorb (may be NULL) */
    int keep_n;
    const oct_exec_int8 *int8; /* real INT8 kernels allowed (may be NULL) */
};

typedef struct oct_backend {
    const char *name;
    /* Creates a kernel for node `node` when this backend supports it (shapes
     * are static by now); *k stays NULL when it does not. May absorb the
     * nodes that follow (it marks them in k->absorbed). */
    oct_status (*create)(oct_exec *x, int node, oct_kernel **k, oct_error *err);
    /* Per-session setup/teardown (may be NULL). */
    oct_status (*init)(oct_exec *x, oct_error *err);
    void (*fini)(oct_exec *x);
} oct_backend;

extern const oct_backend oct_backend_ref;
extern const oct_backend oct_backend_cpu;
/* INT8 sessions only: MaxPool, Concat, Split, Resize, Add on int8 codes
 * (backends/cpu/cpu_q8.c), tried first. */
extern const oct_backend oct_backend_q8;
#ifdef OCT_HAVE_DNNL
extern const oct_backend oct_backend_dnnl;
#endif

/* Helpers for kernels. */
static inline oct_tensor *oct_exec_tensor(oct_exec *x, int v) { return &x->g->values[v].t; }
/* Number of live consumers of value v other than node `except` (or -1). */
int oct_exec_consumers(const oct_exec *x, int v, int *first_consumer);

#endif
