/* oct_session: a model prepared for fixed input shapes, and its executor.
 * Nodes run in topological order on the reference kernels; intermediate
 * tensors are released after their last reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/passes.h"
#include "octet/quant.h"
#include "ops/op.h"
#include "quant/qdq_int8.h"
#include "quant/sim.h"
#include "runtime/runtime.h"
#include <unistd.h>

int oct_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void oct_session_options_init(oct_session_options *o) { memset(o, 0, sizeof *o); }

static oct_status apply_shapes(oct_graph *g, const oct_session_options *o, oct_error *err) {
    for (int s = 0; o && s < o->n_shapes; s++) {
        const oct_input_shape *sh = &o->shapes[s];
        int v = sh->name ? oct_graph_find(g, sh->name) : -1;
        if (v < 0 || !g->values[v].is_input) {
            char names[512] = "";
            size_t k = 0;
            for (int i = 0; i < g->n_inputs && k < sizeof names - 1; i++)
                k += (size_t)snprintf(names + k, sizeof names - k, "%s'%s'", i ? ", " : "",
                                      g->values[g->inputs[i]].name);
            return oct_fail(err, OCT_E_NOT_FOUND,
                            "--shape names '%s', which is not a model input (inputs: %s)",
                            sh->name ? sh->name : "", names);
        }
        oct_value *val = &g->values[v];
        char a[128], b[128];
        if (sh->ndim < 0 || sh->ndim > OCT_MAX_DIMS)
            return oct_fail(err, OCT_E_SHAPE, "input '%s': rank %d is not supported", val->name,
                            sh->ndim);
        if (val->t.ndim && val->t.ndim != sh->ndim)
            return oct_fail(
                err, OCT_E_SHAPE, "input '%s' has rank %d (%s), the given shape %s has rank %d",
                val->name, val->t.ndim, oct_shape_str(val->t.ndim, val->t.dims, a, sizeof a),
                oct_shape_str(sh->ndim, sh->dims, b, sizeof b), sh->ndim);
        for (int i = 0; i < sh->ndim; i++) {
            if (sh->dims[i] < 0)
                return oct_fail(err, OCT_E_SHAPE, "input '%s': dimension %d is negative", val->name,
                                i);
            if (val->t.ndim && val->t.dims[i] >= 0 && val->t.dims[i] != sh->dims[i])
                return oct_fail(err, OCT_E_SHAPE,
                                "input '%s': dimension %d is fixed to %lld by the model, the given "
                                "shape says %lld",
                                val->name, i, (long long)val->t.dims[i], (long long)sh->dims[i]);
        }
        val->t.ndim = sh->ndim;
        for (int i = 0; i < sh->ndim; i++)
            val->t.dims[i] = sh->dims[i];
        val->shape_known = 1;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        oct_value *val = &g->values[g->inputs[i]];
        int unknown = -1;
        for (int d = 0; d < val->t.ndim; d++)
            if (val->t.dims[d] < 0) unknown = d;
        if (val->t.dtype == OCT_UNDEFINED)
            return oct_fail(err, OCT_E_UNSUPPORTED,
                            "input '%s' is not a tensor of a known element type", val->name);
        if (unknown >= 0 || (!val->shape_known && val->t.ndim == 0)) {
            char ex[128], sug[128];
            int64_t d1[OCT_MAX_DIMS];
            for (int d = 0; d < val->t.ndim; d++)
                d1[d] = val->t.dims[d] < 0 ? 1 : val->t.dims[d];
            oct_shape_str(val->t.ndim, val->t.dims, ex, sizeof ex);
            oct_shape_str(val->t.ndim, d1, sug, sizeof sug);
            const char *sym =
                unknown >= 0 && val->dim_names[unknown] ? val->dim_names[unknown] : NULL;
            return oct_fail(err, OCT_E_SHAPE,
                            "input '%s' has a dynamic shape (%s; dimension %d%s%s%s is not fixed): "
                            "give it with "
                            "--shape %s=DIMS, e.g. --shape %s=%s",
                            val->name, ex, unknown, sym ? " '" : "", sym ? sym : "", sym ? "'" : "",
                            val->name, val->name, val->t.ndim ? sug : "1x3x224x224");
        }
        val->shape_known = 1;
    }
    return OCT_OK;
}

oct_status oct_session_prepare_graph(const oct_model *m, const oct_session_options *o, int fold,
                                     oct_graph **out, oct_error *err) {
    oct_graph *g = NULL;
    OCT_TRY(oct_graph_clone(m->g, &g, err));
    oct_status st = apply_shapes(g, o, err);
    if (!st) st = oct_graph_optimize(g, fold, err);
    if (st) {
        oct_graph_free(g);
        return st;
    }
    *out = g;
    return OCT_OK;
}

static oct_status check_supported(const oct_graph *g, oct_error *err) {
    char list[768] = "";
    size_t k = 0;
    int first = -1, count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const oct_node *n = &g->nodes[i];
        if (n->dead || n->def) continue;
        int seen = 0;
        for (int j = 0; j < i; j++)
            if (!g->nodes[j].def && !strcmp(g->nodes[j].op_type, n->op_type)) seen = 1;
        if (seen) continue;
        if (first < 0) first = i;
        count++;
        if (k < sizeof list - 64)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s%s%s", count > 1 ? ", " : "",
                                  n->domain[0] ? n->domain : "", n->domain[0] ? "::" : "",
                                  n->op_type);
    }
    if (first < 0) return OCT_OK;
    return oct_fail(err, OCT_E_UNSUPPORTED, "unsupported op%s: %s (first at node '%s')",
                    count > 1 ? "s" : "", list, g->nodes[first].name);
}

/* real_int8 (with a plan): backends may run real INT8 kernels where the plan
 * allows (oct_session_create_int8); everything else is the simulation. */
static oct_status session_create(const oct_model *m, const oct_session_options *opt,
                                 const oct_plan *plan, int real_int8, oct_session **out,
                                 oct_error *err) {
    if (!m || !out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_session_create: NULL argument");
    *out = NULL;
    oct_session_options defaults;
    if (!opt) {
        oct_session_options_init(&defaults);
        opt = &defaults;
    }
    oct_graph *g = NULL;
    OCT_TRY(oct_session_prepare_graph(m, opt, !opt->no_optimize, &g, err));
    oct_status st = check_supported(g, err);
    oct_session *s = st ? NULL : calloc(1, sizeof *s);
    if (!st && !s) st = oct_fail(err, OCT_E_NOMEM, "out of memory");
    if (st) {
        oct_graph_free(g);
        return st;
    }
    s->model = m;
    s->g = g;
    s->threads = opt->threads > 0 ? opt->threads : oct_cpu_count();
    s->verbose = opt->verbose;
    const char *env = getenv("OCTET_REFERENCE");
    int force_ref = opt->force_reference || (env && *env && strcmp(env, "0"));
    if (plan) st = oct_sim_prepare(g, plan, real_int8, &s->sim, &s->keep, err);
    /* Without a plan, a Q/DQ model's quantized nodes run INT8 unless asked
     * to run the float graph as defined. */
    else if (!opt->qdq_float && !force_ref)
        st = oct_qdq_prepare(m->g, g, &s->qdq, err);
    const oct_exec_int8 *int8 = plan ? oct_sim_int8(s->sim) : oct_qdq_int8(s->qdq);
    if (!st)
        st = oct_exec_build(&s->exec, g, s->threads, force_ref, s->verbose, s->keep, int8, err);
    if (!st && s->sim) st = oct_sim_attach(s);
    if (st) {
        oct_session_free(s);
        return st;
    }
    *out = s;
    return OCT_OK;
}

oct_status oct_session_create(const oct_model *m, const oct_session_options *opt, oct_session **out,
                              oct_error *err) {
    return session_create(m, opt, NULL, 0, out, err);
}

oct_status oct_session_create_simulated(const oct_model *m, const oct_session_options *so,
                                        const oct_plan *plan, oct_session **out, oct_error *err) {
    if (!plan) return oct_fail(err, OCT_E_INVALID_ARG, "oct_session_create_simulated: no plan");
    OCT_TRY(oct_plan_check(plan, m, err));
    return session_create(m, so, plan, 0, out, err);
}

oct_status oct_session_create_int8(const oct_model *m, const oct_session_options *so,
                                   const oct_plan *plan, oct_session **out, oct_error *err) {
    if (!plan) return oct_fail(err, OCT_E_INVALID_ARG, "oct_session_create_int8: no plan");
    OCT_TRY(oct_plan_check(plan, m, err));
    return session_create(m, so, plan, 1, out, err);
}

int oct_session_int8_kernels(const oct_session *s) {
    int n = 0;
    for (int i = 0; s && i < s->exec.n_steps; i++) {
        const char *impl = s->exec.steps[i]->impl;
        if (impl && !strncmp(impl, "dnnl:int8", 9)) n++;
    }
    return n;
}

void oct_session_free(oct_session *s) {
    if (!s) return;
    oct_exec_free(&s->exec);
    oct_sim_free(s->sim);
    oct_qdq_free(s->qdq);
    free(s->keep);
    oct_graph_free(s->g);
    free(s);
}

size_t oct_session_arena_bytes(const oct_session *s) { return s ? s->exec.arena_bytes : 0; }

int oct_session_num_inputs(const oct_session *s) { return s ? s->g->n_inputs : 0; }
int oct_session_num_outputs(const oct_session *s) { return s ? s->g->n_outputs : 0; }
const char *oct_session_output_name(const oct_session *s, int index) {
    if (!s || index < 0 || index >= s->g->n_outputs) return NULL;
    return s->g->values[s->g->outputs[index]].name;
}

oct_status oct_session_input_info(const oct_session *s, int index, const char **name,
                                  oct_tensor_view *shape, oct_error *err) {
    if (!s || index < 0 || index >= s->g->n_inputs)
        return oct_fail(err, OCT_E_INVALID_ARG, "input index %d out of range", index);
    const oct_value *v = &s->g->values[s->g->inputs[index]];
    if (name) *name = v->name;
    if (shape) {
        shape->dtype = v->t.dtype;
        shape->ndim = v->t.ndim;
        memcpy(shape->dims, v->t.dims, sizeof shape->dims);
        shape->data = NULL;
    }
    return OCT_OK;
}

oct_status oct_session_set_input(oct_session *s, const char *name, const oct_tensor_view *in,
                                 oct_error *err) {
    if (!s || !name || !in)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_session_set_input: NULL argument");
    int v = oct_graph_find(s->g, name);
    if (v < 0 || !s->g->values[v].is_input)
        return oct_fail(err, OCT_E_NOT_FOUND, "'%s' is not an input of the model", name);
    oct_value *val = &s->g->values[v];
    char a[128], b[128];
    if (in->dtype != val->t.dtype)
        return oct_fail(err, OCT_E_SHAPE, "input '%s' expects %s, got %s", name,
                        oct_dtype_name(val->t.dtype), oct_dtype_name(in->dtype));
    int same = in->ndim == val->t.ndim;
    for (int i = 0; same && i < in->ndim; i++)
        same = in->dims[i] == val->t.dims[i];
    if (!same)
        return oct_fail(err, OCT_E_SHAPE, "input '%s' expects shape %s, got %s", name,
                        oct_shape_str(val->t.ndim, val->t.dims, a, sizeof a),
                        oct_shape_str(in->ndim, in->dims, b, sizeof b));
    if (!in->data && oct_nbytes(&val->t))
        return oct_fail(err, OCT_E_INVALID_ARG, "input '%s': no data", name);
    if (oct_tensor_alloc(&val->t))
        return oct_fail(err, OCT_E_NOMEM, "input '%s': out of memory", name);
    if (oct_nbytes(&val->t)) memcpy(val->t.data, in->data, oct_nbytes(&val->t));
    return OCT_OK;
}

oct_status oct_session_run(oct_session *s, oct_error *err) {
    if (!s) return oct_fail(err, OCT_E_INVALID_ARG, "oct_session_run: NULL session");
    oct_graph *g = s->g;
    for (int i = 0; i < g->n_inputs; i++) {
        const oct_value *v = &g->values[g->inputs[i]];
        if (!v->t.data && oct_nbytes(&v->t))
            return oct_fail(err, OCT_E_INVALID_ARG, "input '%s' was not set", v->name);
    }
    if (s->sim) OCT_TRY(oct_sim_inputs(s));
    OCT_TRY(oct_exec_run(&s->exec, s->observer, s->observer_user, err));
    s->ran = 1;
    return OCT_OK;
}

oct_status oct_session_get_output(const oct_session *s, int index, oct_tensor_view *out,
                                  oct_error *err) {
    if (!s || !out || index < 0 || index >= s->g->n_outputs)
        return oct_fail(err, OCT_E_INVALID_ARG, "output index %d out of range", index);
    const oct_value *v = &s->g->values[s->g->outputs[index]];
    if (!s->ran && !v->is_const)
        return oct_fail(err, OCT_E_INVALID_ARG, "the session has not run yet");
    out->dtype = v->t.dtype;
    out->ndim = v->t.ndim;
    memcpy(out->dims, v->t.dims, sizeof out->dims);
    out->data = v->t.data;
    return OCT_OK;
}
