/* Internal to cross-layer equalization: the pair search (cle_pairs.c) and
 * the scaling and writing (cle.c) share this state. */
#ifndef OCT_QUANT_CLE_INTERNAL_H
#define OCT_QUANT_CLE_INTERNAL_H

#include "graph/ir.h"
#include "quant/cle.h"

/* A Conv taking part in at least one pair. Its effective weights are
 * W[o, j, t] * sin[input channel of (o, j)] / sout[o]: the scales stay in
 * double and the float weights are computed once at the end, so a hundred
 * sweeps round each weight once. */
typedef struct oct_cle_conv {
    int node;
    const oct_tensor *w, *b; /* original values (b may be NULL) */
    const char *wname, *bname;
    int cout, cpg, group, opg; /* cpg: input channels per group (W dims[1]); opg: cout / group */
    float *amax;               /* [cout * cpg]: max over the kernel window of |W[o, j, :, :]| */
    double *sout, *sin;        /* [cout], [cpg * group], start at 1 */
} oct_cle_conv;

typedef struct oct_cle_cand {
    int c1, c2; /* indices into convs */
    int act;    /* node between, -1 for none */
    int is_clip;
    float lo, hi; /* the Clip's bounds (+-INFINITY when absent) */
} oct_cle_cand;

typedef struct oct_cle_ctx {
    const oct_graph *g;
    int *use;             /* readers per value */
    int *cons_off, *cons; /* readers of value v: cons[cons_off[v] .. cons_off[v+1]) */
    int *conv_of_node;    /* node -> index into convs, or -1 */
    oct_cle_conv *convs;
    int n_convs;
    oct_cle_cand *cands;
    int n_cands, cap_cands;
    oct_cle_report *rep;
    oct_error *err;
} oct_cle_ctx;

/* Fills convs and cands with the eligible pairs, in topological order of
 * Conv1, and rep->skipped with the others. */
oct_status oct_cle_find_pairs(oct_cle_ctx *x);
void oct_cle_ctx_free(oct_cle_ctx *x);

#endif
