/* The operator interface. Each op lives in one file under src/ops with its
 * checks and shape inference (`infer`), and its reference kernel (`run`) in
 * src/kernels/ref. Both receive the same context.
 *
 * infer: reads input dtypes/shapes (and input values where `data` is not
 *   NULL: constants, or everything at run time) and sets each output's dtype,
 *   ndim and dims. When an output shape depends on a value that is not known
 *   yet, it returns OCT_E_DYNAMIC without an error message: the runtime then
 *   infers again at run time, with all values known.
 * run: computes outputs. Output tensors arrive allocated (shape from infer,
 *   zero-filled); inputs are never modified. Portable C, no intrinsics. */
#ifndef OCT_OPS_OP_H
#define OCT_OPS_OP_H

#include "core/error.h"
#include "core/tensor.h"
#include "graph/ir.h"

typedef struct oct_opctx {
    const oct_node *node;
    int n_in;
    const oct_tensor *const *in; /* in[i] NULL: optional input absent */
    int n_out;
    oct_tensor *const *out;      /* out[i] NULL: optional output absent */
    int64_t opset;               /* opset of the node's domain */
    int threads;                 /* threads the kernel may use (>= 1) */
    oct_error *err;
} oct_opctx;

typedef oct_status (*oct_infer_fn)(oct_opctx *c);
typedef oct_status (*oct_run_fn)(oct_opctx *c);

typedef struct oct_op_def {
    const char *domain;  /* "" default, "com.microsoft" ... */
    const char *op_type;
    oct_infer_fn infer;
    oct_run_fn run;
    int no_fold;         /* 1: never constant-fold (random ops) */
} oct_op_def;

/* The registry: all op definitions, looked up by (domain, op_type). */
const oct_op_def *oct_op_lookup(const char *domain, const char *op_type);

/* Error helper: "node 'NAME' (OP): message". Returns st. */
oct_status oct_op_fail(const oct_opctx *c, oct_status st, const char *fmt, ...) OCT_PRINTF(3, 4);

/* Input helpers. */
static inline const oct_tensor *oct_in(const oct_opctx *c, int i) {
    return i < c->n_in ? c->in[i] : NULL;
}
static inline oct_tensor *oct_out(const oct_opctx *c, int i) {
    return i < c->n_out ? c->out[i] : NULL;
}
/* Checks an input is present and, when dt is not OCT_UNDEFINED, of dtype dt. */
oct_status oct_op_need_input(const oct_opctx *c, int i, oct_dtype dt);
/* Requires input i's value (returns OCT_E_DYNAMIC when unknown). */
oct_status oct_op_need_value(const oct_opctx *c, int i);
/* Copies an int tensor (int32/int64) into v (max n), returns count or -1. */
int64_t oct_read_ints(const oct_tensor *t, int64_t *v, int64_t n);
/* Output = same dtype/shape as input i. */
oct_status oct_infer_same_as(oct_opctx *c, int i);
/* Numpy-style multidirectional broadcast of shapes a and b into out. */
oct_status oct_broadcast_shape(const oct_opctx *c, int na, const int64_t *a, int nb,
                               const int64_t *b, int *nout, int64_t *out);
/* Normalises a possibly negative axis for rank r; fails when out of range. */
oct_status oct_op_axis(const oct_opctx *c, int64_t axis, int r, int *out);

/* Declares an op definition `oct_op_<Name>` (see registry.c for the list). */
#define OCT_OP(Name) extern const oct_op_def oct_op_##Name

#endif
