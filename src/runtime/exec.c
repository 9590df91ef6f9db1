/* Execution planning: kernel selection (first backend that accepts a node),
 * layout conversions at the boundaries, and a liveness-based arena for the
 * intermediate tensors so that steady-state runs allocate nothing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/exec.h"

oct_status oct_exec_prepare_output(oct_tensor *t, int zero) {
    if (t->data && !t->owned) { /* planned in the arena */
        if (zero) memset(t->data, 0, oct_nbytes(t));
        return OCT_OK;
    }
    if (!zero && t->owned && t->data && t->cap >= oct_nbytes(t)) return OCT_OK;
    return oct_tensor_alloc(t);
}

int oct_exec_consumers(const oct_exec *x, int v, int *first_consumer) {
    int n = 0;
    if (first_consumer) *first_consumer = -1;
    for (int i = 0; i < x->g->n_nodes; i++) {
        const oct_node *nd = &x->g->nodes[i];
        if (nd->dead) continue;
        for (int k = 0; k < nd->n_in; k++)
            if (nd->in[k] == v) {
                if (!n && first_consumer) *first_consumer = i;
                n++;
                break;
            }
    }
    return n;
}

static oct_status push_step(oct_plan_exec *p, oct_kernel *k, oct_error *err) {
    if (p->n_steps == p->cap_steps) {
        int nc = p->cap_steps ? p->cap_steps * 2 : 64;
        oct_kernel **ns = realloc(p->steps, sizeof *ns * (size_t)nc);
        if (!ns) return oct_fail(err, OCT_E_NOMEM, "out of memory");
        p->steps = ns;
        p->cap_steps = nc;
    }
    p->steps[p->n_steps++] = k;
    return OCT_OK;
}

/* Keeps the per-value layout array as large as the value table. */
static oct_status grow_layouts(oct_plan_exec *p, oct_error *err) {
    if (p->x.g->n_values <= p->layout_cap) return OCT_OK;
    int nc = p->x.g->n_values * 2 + 64;
    oct_layout *nl = realloc(p->x.layout, sizeof *nl * (size_t)nc);
    if (!nl) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    for (int i = p->layout_cap; i < nc; i++)
        nl[i] = OCT_LAYOUT_PLAIN;
    p->x.layout = nl;
    p->layout_cap = nc;
    return OCT_OK;
}

float oct_exec_act_scale(const oct_exec *x, int v) {
    const oct_exec_int8 *q = x->int8;
    return q && v >= 0 && v < q->n_values ? q->act_scale[v] : 0.0f;
}

static const char *layout_name(oct_layout l) {
    return l == OCT_LAYOUT_NHWC ? "nhwc" : l == OCT_LAYOUT_NHWC_Q8 ? "nhwc-q8" : "plain";
}

/* A copy of value v in another layout, made once and shared by readers. */
static oct_status convert(oct_plan_exec *p, int v, oct_layout to, int *shadow, oct_error *err) {
    oct_graph *g = p->x.g;
    char hint[600];
    snprintf(hint, sizeof hint, "%s/%s", g->values[v].name, layout_name(to));
    int s = oct_graph_find(g, hint);
    if (s < 0) {
        s = oct_graph_value(g, hint);
        if (s < 0) return oct_fail(err, OCT_E_NOMEM, "out of memory");
        OCT_TRY(grow_layouts(p, err));
        oct_value *sv = &g->values[s], *src = &g->values[v];
        /* int8 codes on one side only: the copy is the other type */
        oct_dtype dt = to == OCT_LAYOUT_NHWC_Q8               ? OCT_INT8
                       : p->x.layout[v] == OCT_LAYOUT_NHWC_Q8 ? OCT_FLOAT
                                                              : src->t.dtype;
        oct_tensor_set_shape(&sv->t, dt, src->t.ndim, src->t.dims);
        sv->shape_known = 1;
        sv->is_shadow = 1;
        oct_kernel *k = NULL;
        OCT_TRY(oct_cpu_reorder_create(&p->x, v, p->x.layout[v], s, to,
                                       oct_exec_act_scale(&p->x, v), &k, err));
        p->x.layout[s] = to;
        OCT_TRY(push_step(p, k, err));
    }
    *shadow = s;
    return OCT_OK;
}

static oct_status plan_memory(oct_plan_exec *p, oct_error *err);
static void print_profile(const oct_plan_exec *p);

oct_status oct_exec_build(oct_plan_exec *p, oct_graph *g, int threads, int force_reference,
                          int verbose, const unsigned char *keep, const oct_exec_int8 *int8,
                          oct_error *err) {
    memset(p, 0, sizeof *p);
    p->x.g = g;
    p->x.keep = keep;
    p->x.int8 = int8;
    p->x.keep_n = g->n_values;
    p->x.threads = threads > 0 ? threads : 1;
    p->x.pool = p->x.threads > 1 ? oct_pool_create(p->x.threads) : NULL;
    OCT_TRY(grow_layouts(p, err));
    if (!force_reference) {
        /* keeps INT8 tensors as codes between INT8 kernels; declines
         * everything else, so it goes first */
        if (int8) p->backends[p->n_backends++] = &oct_backend_q8;
#ifdef OCT_HAVE_DNNL
        p->backends[p->n_backends++] = &oct_backend_dnnl;
#endif
        p->backends[p->n_backends++] = &oct_backend_cpu;
    }
    p->backends[p->n_backends++] = &oct_backend_ref;
    for (int b = 0; b < p->n_backends; b++)
        if (p->backends[b]->init) OCT_TRY(p->backends[b]->init(&p->x, err));

    int n_nodes = g->n_nodes;
    char *absorbed = calloc((size_t)n_nodes + 1, 1);
    if (!absorbed) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    oct_status st = OCT_OK;
    for (int i = 0; i < n_nodes && !st; i++) {
        if (absorbed[i] || g->nodes[i].dead) continue;
        oct_kernel *k = NULL;
        for (int b = 0; b < p->n_backends && !k && !st; b++)
            st = p->backends[b]->create(&p->x, i, &k, err);
        if (st) break;
        if (!k) {
            st = oct_fail(err, OCT_E_UNSUPPORTED, "node '%s': unsupported op %s", g->nodes[i].name,
                          g->nodes[i].op_type);
            break;
        }
        for (int a = 0; a < k->n_absorbed; a++)
            absorbed[k->absorbed[a]] = 1;
        if ((st = grow_layouts(p, err))) break;
        for (int j = 0; j < k->n_in && !st; j++) {
            int v = k->in_values[j];
            if (v < 0) continue;
            oct_layout cur = p->x.layout[v];
            unsigned bit = cur == OCT_LAYOUT_NHWC      ? OCT_ACCEPT_NHWC
                           : cur == OCT_LAYOUT_NHWC_Q8 ? OCT_ACCEPT_NHWC_Q8
                                                       : OCT_ACCEPT_PLAIN;
            if (k->in_accept[j] & bit) continue;
            /* a float reader of int8 codes reads them channels-last if it can */
            oct_layout want = (k->in_accept[j] & OCT_ACCEPT_NHWC) && cur == OCT_LAYOUT_NHWC_Q8
                                  ? OCT_LAYOUT_NHWC
                              : (k->in_accept[j] & OCT_ACCEPT_PLAIN) ? OCT_LAYOUT_PLAIN
                              : (k->in_accept[j] & OCT_ACCEPT_NHWC)  ? OCT_LAYOUT_NHWC
                                                                     : OCT_LAYOUT_NHWC_Q8;
            st = convert(p, v, want, &k->in_values[j], err);
        }
        if (st) {
            k->destroy(k);
            break;
        }
        /* Graph outputs leave in plain layout: a fast kernel writes a
         * channels-last temporary that is converted into the output. */
        int post[OCT_KERNEL_MAX_OUT];
        for (int o = 0; o < k->n_out; o++) {
            post[o] = -1;
            int v = k->out_values[o];
            if (v < 0) continue;
            if (k->out_layout[o] != OCT_LAYOUT_PLAIN && g->values[v].is_output) {
                char hint[600];
                snprintf(hint, sizeof hint, "%s/nhwc", g->values[v].name);
                int t = oct_graph_value(g, hint);
                if (t < 0 || (st = grow_layouts(p, err))) {
                    st = st ? st : oct_fail(err, OCT_E_NOMEM, "out of memory");
                    break;
                }
                oct_tensor_set_shape(&g->values[t].t,
                                     k->out_layout[o] == OCT_LAYOUT_NHWC_Q8 ? OCT_INT8
                                                                            : g->values[v].t.dtype,
                                     g->values[v].t.ndim, g->values[v].t.dims);
                g->values[t].shape_known = 1;
                g->values[t].is_shadow = 1;
                g->values[t].producer = k->node;
                post[o] = v;
                k->out_values[o] = t;
                v = t;
            }
            p->x.layout[v] = k->out_layout[o];
            if (k->out_layout[o] == OCT_LAYOUT_NHWC_Q8) g->values[v].t.dtype = OCT_INT8;
        }
        if (st || (st = push_step(p, k, err))) {
            if (st) k->destroy(k);
            break;
        }
        if (verbose) {
            fprintf(stderr, "octet: step %d: node '%s' (%s) -> %s", p->n_steps - 1,
                    g->nodes[i].name, g->nodes[i].op_type, k->impl);
            for (int a = 0; a < k->n_absorbed; a++)
                fprintf(stderr, " +%s", g->nodes[k->absorbed[a]].op_type);
            if (k->n_out > 0 && k->out_values[0] >= 0)
                fprintf(stderr, " [%s]", layout_name(p->x.layout[k->out_values[0]]));
            fprintf(stderr, "\n");
        }
        for (int o = 0; o < k->n_out && !st; o++) {
            if (post[o] < 0) continue;
            oct_kernel *r = NULL;
            st = oct_cpu_reorder_create(&p->x, k->out_values[o], k->out_layout[o], post[o],
                                        OCT_LAYOUT_PLAIN, oct_exec_act_scale(&p->x, post[o]), &r,
                                        err);
            if (!st) st = push_step(p, r, err);
            p->x.layout[post[o]] = OCT_LAYOUT_PLAIN;
        }
    }
    free(absorbed);
    if (!st) st = plan_memory(p, err);
    const char *prof = getenv("OCTET_PROFILE");
    if (!st && prof && *prof && strcmp(prof, "0"))
        p->step_ms = calloc((size_t)p->n_steps + 1, sizeof(double));
    if (!st && verbose)
        fprintf(stderr, "octet: %d steps, arena %.2f MiB\n", p->n_steps,
                p->arena_bytes / 1048576.0);
    return st;
}

/* Greedy best-offset placement, largest tensors first: a tensor may share
 * memory with any tensor whose lifetime (first write .. last read, in steps)
 * does not overlap its own. */
typedef struct {
    int v;
    int first, last;
    size_t size, off;
} interval;

static int cmp_size(const void *a, const void *b) {
    const interval *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->first - y->first;
}

static oct_status plan_memory(oct_plan_exec *p, oct_error *err) {
    oct_graph *g = p->x.g;
    int nv = g->n_values;
    int *first = malloc(sizeof(int) * (size_t)(nv + 1)),
        *last = malloc(sizeof(int) * (size_t)(nv + 1));
    interval *iv = malloc(sizeof *iv * (size_t)(nv + 1));
    if (!first || !last || !iv) {
        free(first);
        free(last);
        free(iv);
        return oct_fail(err, OCT_E_NOMEM, "out of memory");
    }
    for (int v = 0; v < nv; v++)
        first[v] = last[v] = -1;
    for (int s = 0; s < p->n_steps; s++) {
        oct_kernel *k = p->steps[s];
        for (int o = 0; o < k->n_out; o++) {
            int v = k->out_values[o];
            if (v >= 0 && first[v] < 0) first[v] = s;
        }
        for (int j = 0; j < k->n_in; j++) {
            int v = k->in_values[j];
            if (v >= 0) last[v] = s;
        }
    }
    int n = 0;
    for (int v = 0; v < nv; v++) {
        oct_value *val = &g->values[v];
        if (first[v] < 0 || val->is_const || val->is_input || val->is_output || !val->shape_known)
            continue;
        int dyn = val->producer >= 0 && g->nodes[val->producer].dynamic;
        if (dyn) continue;
        size_t sz = oct_nbytes(&val->t);
        if (!sz) continue;
        iv[n].v = v;
        iv[n].first = first[v];
        iv[n].last = last[v] < first[v] ? first[v] : last[v];
        iv[n].size = (sz + 63) & ~(size_t)63;
        n++;
    }
    qsort(iv, (size_t)n, sizeof *iv, cmp_size);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t off = 0;
        int moved = 1;
        /* Slide past every placed, time-overlapping block that collides. */
        while (moved) {
            moved = 0;
            for (int j = 0; j < i; j++) {
                if (iv[j].last < iv[i].first || iv[i].last < iv[j].first) continue;
                if (off < iv[j].off + iv[j].size && iv[j].off < off + iv[i].size) {
                    off = iv[j].off + iv[j].size;
                    moved = 1;
                }
            }
        }
        iv[i].off = off;
        if (off + iv[i].size > total) total = off + iv[i].size;
    }
    p->arena_bytes = total;
    if (total) {
        p->arena = aligned_alloc(64, total);
        if (!p->arena) {
            free(first);
            free(last);
            free(iv);
            return oct_fail(err, OCT_E_NOMEM, "cannot allocate the %zu-byte activation arena",
                            total);
        }
    }
    for (int i = 0; i < n; i++) {
        oct_tensor *t = &g->values[iv[i].v].t;
        oct_tensor_release(t);
        t->data = p->arena + iv[i].off;
        t->owned = 0;
        t->cap = iv[i].size;
    }
    free(first);
    free(last);
    free(iv);
    return OCT_OK;
}

void oct_exec_free(oct_plan_exec *p) {
    if (p->step_ms) print_profile(p);
    free(p->step_ms);
    for (int s = 0; s < p->n_steps; s++)
        p->steps[s]->destroy(p->steps[s]);
    for (int b = 0; b < p->n_backends; b++)
        if (p->backends[b]->fini) p->backends[b]->fini(&p->x);
    free(p->steps);
    free(p->x.layout);
    if (p->arena) {
        /* planned tensors point into the arena: detach them first */
        for (int v = 0; v < p->x.g->n_values; v++) {
            oct_tensor *t = &p->x.g->values[v].t;
            if (!t->owned && (unsigned char *)t->data >= p->arena &&
                (unsigned char *)t->data < p->arena + p->arena_bytes)
                t->data = NULL;
        }
    }
    free(p->arena);
    oct_pool_free(p->x.pool);
    memset(p, 0, sizeof *p);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

oct_status oct_exec_run(oct_plan_exec *p, oct_step_observer obs, void *user, oct_error *err) {
    for (int s = 0; s < p->n_steps; s++) {
        oct_kernel *k = p->steps[s];
        double t0 = p->step_ms ? now_ms() : 0;
        OCT_TRY(k->run(k, &p->x, err));
        if (p->step_ms) p->step_ms[s] += now_ms() - t0;
        if (obs) {
            int vals[OCT_KERNEL_MAX_OUT], nv = 0;
            for (int o = 0; o < k->n_out; o++) {
                int v = k->out_values[o];
                if (v >= 0 && !p->x.g->values[v].is_shadow) vals[nv++] = v;
            }
            if (nv) OCT_TRY(obs(user, p->x.g, k->node, nv, vals));
        }
    }
    p->runs++;
    return OCT_OK;
}

/* The profile: the most expensive steps, printed when the plan is freed. */
static void print_profile(const oct_plan_exec *p) {
    double total = 0;
    for (int s = 0; s < p->n_steps; s++)
        total += p->step_ms[s];
    fprintf(stderr, "octet profile: %d runs, %.2f ms per run\n", p->runs,
            p->runs ? total / p->runs : 0);
    char *done = calloc((size_t)p->n_steps + 1, 1);
    for (int r = 0; r < 25 && done; r++) {
        int best = -1;
        for (int s = 0; s < p->n_steps; s++)
            if (!done[s] && (best < 0 || p->step_ms[s] > p->step_ms[best])) best = s;
        if (best < 0) break;
        done[best] = 1;
        const oct_kernel *k = p->steps[best];
        fprintf(stderr, "  %8.3f ms %5.1f%%  %-18s %s\n", p->runs ? p->step_ms[best] / p->runs : 0,
                total > 0 ? 100 * p->step_ms[best] / total : 0, k->impl,
                k->node >= 0 ? p->x.g->nodes[k->node].name : "(layout conversion)");
    }
    /* where the time goes by implementation and op (reorders: "layout") */
    enum { MAX_GROUPS = 48 };
    const char *gi[MAX_GROUPS], *go[MAX_GROUPS];
    double gms[MAX_GROUPS];
    int gn[MAX_GROUPS], ng = 0;
    for (int s = 0; s < p->n_steps; s++) {
        const oct_kernel *k = p->steps[s];
        const char *op = k->node >= 0 ? p->x.g->nodes[k->node].op_type : "layout";
        int j = 0;
        while (j < ng && (strcmp(gi[j], k->impl) || strcmp(go[j], op)))
            j++;
        if (j == ng) {
            if (ng == MAX_GROUPS) continue;
            gi[ng] = k->impl;
            go[ng] = op;
            gms[ng] = 0;
            gn[ng++] = 0;
        }
        gms[j] += p->step_ms[s];
        gn[j]++;
    }
    fprintf(stderr, "octet profile by implementation and op:\n");
    for (int r = 0; r < ng && r < 16 && done; r++) {
        int best = -1;
        for (int j = 0; j < ng; j++)
            if (gn[j] >= 0 && (best < 0 || gms[j] > gms[best])) best = j;
        fprintf(stderr, "  %8.3f ms %5.1f%%  %-18s %-20s %d steps\n",
                p->runs ? gms[best] / p->runs : 0, total > 0 ? 100 * gms[best] / total : 0,
                gi[best], go[best], gn[best]);
        gn[best] = -1;
    }
    free(done);
}
