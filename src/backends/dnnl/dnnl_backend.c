/* The oneDNN CPU backend: convolutions, pooling and matrix products on
 * oneDNN's JIT kernels (AVX2/AVX-512/VNNI/AMX, chosen by oneDNN itself). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/dnnl/dnnl_common.h"

oct_status oct_dnnl_check(dnnl_status_t s, const char *what, const char *node, oct_error *err) {
    if (s == dnnl_success) return OCT_OK;
    return oct_fail(err, s == dnnl_unimplemented ? OCT_E_UNSUPPORTED : OCT_E_RUNTIME,
                    "node '%s': oneDNN %s failed (status %d)", node ? node : "?", what, (int)s);
}

oct_status oct_dnnl_prim_create(oct_dnnl_prim *p, const_dnnl_primitive_desc_t pd, oct_error *err) {
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
        snprintf(p->impl, sizeof p->impl, "dnnl:%s", impl);
    return oct_dnnl_check(dnnl_primitive_create(&p->prim, pd), "primitive creation", NULL, err);
}

oct_status oct_dnnl_arg_slot(oct_dnnl *d, oct_dnnl_prim *p, int arg, const dnnl_memory_desc_t *md, int slot,
                             oct_error *err) {
    if (p->n_args >= OCT_DNNL_MAX_ARGS) return oct_fail(err, OCT_E_RUNTIME, "too many oneDNN arguments");
    dnnl_memory_t m;
    OCT_TRY(oct_dnnl_check(dnnl_memory_create(&m, md, d->engine, DNNL_MEMORY_NONE), "memory", NULL, err));
    p->args[p->n_args].arg = arg;
    p->args[p->n_args].memory = m;
    p->arg_slot[p->n_args] = slot;
    p->n_args++;
    return OCT_OK;
}

oct_status oct_dnnl_arg_owned(oct_dnnl *d, oct_dnnl_prim *p, int arg, const dnnl_memory_desc_t *md,
                              dnnl_memory_t *mem, oct_error *err) {
    if (p->n_args >= OCT_DNNL_MAX_ARGS) return oct_fail(err, OCT_E_RUNTIME, "too many oneDNN arguments");
    dnnl_memory_t m;
    OCT_TRY(oct_dnnl_check(dnnl_memory_create(&m, md, d->engine, DNNL_MEMORY_ALLOCATE), "memory", NULL, err));
    p->args[p->n_args].arg = arg;
    p->args[p->n_args].memory = m;
    p->arg_slot[p->n_args] = -1;
    p->n_args++;
    if (mem) *mem = m;
    return OCT_OK;
}

oct_status oct_dnnl_execute(oct_dnnl_prim *p, const oct_kernel *k, oct_exec *x, oct_error *err) {
    oct_dnnl *d = x->dnnl;
    for (int i = 0; i < p->n_args; i++) {
        int s = p->arg_slot[i];
        if (s < 0) continue;
        int v = s >= 1000 ? k->out_values[s - 1000] : k->in_values[s];
        dnnl_memory_set_data_handle(p->args[i].memory, x->g->values[v].t.data);
    }
    OCT_TRY(oct_dnnl_check(dnnl_primitive_execute(p->prim, d->stream, p->n_args, p->args), "execution", NULL, err));
    return oct_dnnl_check(dnnl_stream_wait(d->stream), "stream wait", NULL, err);
}

void oct_dnnl_prim_destroy(oct_dnnl_prim *p) {
    for (int i = 0; i < p->n_args; i++) dnnl_memory_destroy(p->args[i].memory);
    if (p->prim) dnnl_primitive_destroy(p->prim);
    memset(p, 0, sizeof *p);
}

oct_status oct_dnnl_fill(oct_dnnl *d, dnnl_memory_t dst, const dnnl_memory_desc_t *plain_md, const void *data,
                         oct_error *err) {
    const dnnl_memory_desc_t *dst_md;
    OCT_TRY(oct_dnnl_check(dnnl_memory_get_memory_desc(dst, &dst_md), "memory desc", NULL, err));
    dnnl_memory_t src;
    OCT_TRY(oct_dnnl_check(dnnl_memory_create(&src, plain_md, d->engine, (void *)data), "memory", NULL, err));
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t r = NULL;
    oct_status st = oct_dnnl_check(dnnl_reorder_primitive_desc_create(&rpd, plain_md, d->engine, dst_md, d->engine, NULL),
                                   "reorder", NULL, err);
    if (!st) st = oct_dnnl_check(dnnl_primitive_create(&r, rpd), "reorder", NULL, err);
    if (!st) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
        st = oct_dnnl_check(dnnl_primitive_execute(r, d->stream, 2, args), "reorder", NULL, err);
        if (!st) st = oct_dnnl_check(dnnl_stream_wait(d->stream), "reorder", NULL, err);
    }
    if (r) dnnl_primitive_destroy(r);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    dnnl_memory_destroy(src);
    return st;
}

/* oneDNN here runs on OpenMP; the session's thread count applies to this
 * thread's parallel regions. Looked up at run time: libgomp comes with
 * libdnnl, and octet itself does not link OpenMP. */
static void set_omp_threads(int n) {
    void (*fn)(int) = NULL;
    void *sym = dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    memcpy(&fn, &sym, sizeof fn);
    if (fn && n > 0) fn(n);
}

static oct_status dnnl_init(oct_exec *x, oct_error *err) {
    oct_dnnl *d = calloc(1, sizeof *d);
    if (!d) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    set_omp_threads(x->threads);
    if (dnnl_engine_create(&d->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&d->stream, d->engine, dnnl_stream_default_flags) != dnnl_success) {
        if (d->engine) dnnl_engine_destroy(d->engine);
        free(d);
        return oct_fail(err, OCT_E_RUNTIME, "cannot create the oneDNN CPU engine");
    }
    x->dnnl = d;
    return OCT_OK;
}

static void dnnl_fini(oct_exec *x) {
    oct_dnnl *d = x->dnnl;
    if (!d) return;
    dnnl_stream_destroy(d->stream);
    dnnl_engine_destroy(d->engine);
    free(d->scratch);
    free(d->src[0]);
    free(d->src[1]);
    free(d);
    x->dnnl = NULL;
}

static oct_status dnnl_create(oct_exec *x, int node, oct_kernel **k, oct_error *err) {
    *k = NULL;
    const oct_node *n = &x->g->nodes[node];
    if (!x->dnnl || n->dynamic || n->domain[0]) return OCT_OK;
    oct_status st = OCT_OK;
    /* INT8 first where the session's plan allows it; declined nodes take
     * the FP32 kernel (the simulation of the node). */
    if (x->int8 && (!strcmp(n->op_type, "Conv") || !strcmp(n->op_type, "ConvTranspose")))
        st = oct_dnnl_conv_int8_create(x, node, k, err);
    else if (x->int8 && (!strcmp(n->op_type, "MatMul") || !strcmp(n->op_type, "Gemm")))
        st = oct_dnnl_matmul_int8_create(x, node, k, err);
    if (st || *k) {
        if (st == OCT_E_UNSUPPORTED) *k = NULL;
        return st == OCT_E_UNSUPPORTED ? OCT_OK : st;
    }
    /* a ConvTranspose whose kernel equals its stride is a product and a
     * scatter, much faster than oneDNN's AVX2 deconvolution */
    if (!strcmp(n->op_type, "ConvTranspose")) st = oct_dnnl_deconv_gemm_create(x, node, k, err);
    if (st || *k) return st;
    if (!strcmp(n->op_type, "Conv") || !strcmp(n->op_type, "ConvTranspose")) st = oct_dnnl_conv_create(x, node, k, err);
    else if (!strcmp(n->op_type, "MaxPool") || !strcmp(n->op_type, "AveragePool") ||
             !strcmp(n->op_type, "GlobalAveragePool") || !strcmp(n->op_type, "GlobalMaxPool"))
        st = oct_dnnl_pool_create(x, node, k, err);
    else if (!strcmp(n->op_type, "MatMul") || !strcmp(n->op_type, "Gemm"))
        st = oct_dnnl_matmul_create(x, node, k, err);
    else if (!strcmp(n->op_type, "QLinearConv") || !strcmp(n->op_type, "ConvInteger"))
        st = oct_dnnl_qconv_create(x, node, k, err);
    /* oneDNN declining a problem is not an error: the next backend takes it. */
    if (st == OCT_E_UNSUPPORTED) {
        *k = NULL;
        return OCT_OK;
    }
    return st;
}

const oct_backend oct_backend_dnnl = {"dnnl", dnnl_create, dnnl_init, dnnl_fini};
