/* Public plan operations: model checks, counts, TensorRT exports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "octet/quant.h"
#include "quant/plan.h"
#include "quant/trt_cache.h"
#include "runtime/runtime.h"

oct_status oct_plan_check(const oct_plan *p, const oct_model *m, oct_error *err) {
    if (!p || !m) return oct_fail(err, OCT_E_INVALID_ARG, "oct_plan_check: NULL argument");
    if (p->model_sha256[0] && strcmp(p->model_sha256, oct_model_sha256(m)))
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "the plan was made for another model (plan sha256 %.12s..., model %.12s...%s%s)",
                        p->model_sha256, oct_model_sha256(m), p->model_path ? ", plan model " : "",
                        p->model_path ? p->model_path : "");
    const oct_graph *g = m->g;
    for (int i = 0; i < p->n_tensors; i++)
        if (oct_graph_find(g, p->tensors[i].name) < 0)
            return oct_fail(err, OCT_E_NOT_FOUND, "the plan names tensor '%s', which the model does not have",
                            p->tensors[i].name);
    for (int i = 0; i < p->n_nodes; i++) {
        int found = 0;
        for (int k = 0; k < g->n_nodes && !found; k++) found = !strcmp(g->nodes[k].name, p->nodes[i].name);
        if (!found)
            return oct_fail(err, OCT_E_NOT_FOUND, "the plan names node '%s', which the model does not have",
                            p->nodes[i].name);
    }
    return OCT_OK;
}

void oct_plan_counts(const oct_plan *p, int tensors[4], int nodes[4]) {
    for (int i = 0; i < 4; i++) tensors[i] = nodes[i] = 0;
    if (!p) return;
    for (int i = 0; i < p->n_tensors; i++) tensors[p->tensors[i].precision & 3]++;
    for (int i = 0; i < p->n_nodes; i++) nodes[p->nodes[i].precision & 3]++;
}

oct_status oct_export_trt_cache(const oct_plan *p, const char *path, int64_t version, const char *algorithm,
                                oct_error *err) {
    return oct_trt_cache_write_plan(p, path, version, algorithm, err);
}

oct_status oct_import_trt_cache(const oct_model *m, const char *path, oct_plan **out, oct_error *err) {
    oct_trt_cache *c = NULL;
    *out = NULL;
    OCT_TRY(oct_trt_cache_read(path, &c, err));
    oct_plan *p = oct_plan_new();
    oct_status st = p ? oct_trt_cache_to_plan(c, p, err) : oct_fail(err, OCT_E_NOMEM, "out of memory");
    if (!st) {
        memcpy(p->model_sha256, oct_model_sha256(m), 65);
        if (m->path) p->model_path = strdup(m->path);
        if (!p->scheme) p->scheme = strdup("trt-cache");
        for (int i = 0; i < p->n_tensors && !st; i++)
            if (oct_graph_find(m->g, p->tensors[i].name) < 0)
                st = oct_fail(err, OCT_E_NOT_FOUND, "%s: tensor '%s' is not in the model", path, p->tensors[i].name);
        /* every node of the model runs INT8 where TensorRT can */
        for (int k = 0; k < m->g->n_nodes && !st; k++) {
            int idx = oct_plan_add_node(p, m->g->nodes[k].name, m->g->nodes[k].op_type);
            if (idx < 0) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
            else p->nodes[idx].precision = OCT_PREC_INT8;
        }
    }
    oct_trt_cache_free(c);
    if (st) {
        oct_plan_free(p);
        return st;
    }
    *out = p;
    return OCT_OK;
}

oct_status oct_export_trtexec_flags(const oct_plan *p, char **out, oct_error *err) {
    size_t cap = 256, len = 0;
    char *s = malloc(cap);
    if (!s) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    len = (size_t)snprintf(s, cap, "--int8");
    int first = 1;
    for (int i = 0; i < p->n_nodes; i++) {
        const oct_plan_node *n = &p->nodes[i];
        if (n->precision == OCT_PREC_INT8) continue;
        const char *pr = n->precision == OCT_PREC_FP16 ? "fp16" : n->precision == OCT_PREC_BF16 ? "bf16" : "fp32";
        size_t need = len + strlen(n->name) + 64;
        if (need > cap) {
            while (cap < need) cap *= 2;
            char *ns = realloc(s, cap);
            if (!ns) {
                free(s);
                return oct_fail(err, OCT_E_NOMEM, "out of memory");
            }
            s = ns;
        }
        len += (size_t)snprintf(s + len, cap - len, "%s%s:%s", first ? " --fp16 --layerPrecisions=" : ",", n->name, pr);
        first = 0;
    }
    if (!first) {
        if (len + 40 > cap) {
            char *ns = realloc(s, cap + 64);
            if (!ns) {
                free(s);
                return oct_fail(err, OCT_E_NOMEM, "out of memory");
            }
            s = ns;
            cap += 64;
        }
        snprintf(s + len, cap - len, " --precisionConstraints=obey");
    }
    *out = s;
    return OCT_OK;
}
