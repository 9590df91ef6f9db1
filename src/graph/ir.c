/* Graph IR storage: values with a name index, nodes, attributes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/ir.h"

static char *xstrdup(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

oct_graph *oct_graph_new(void) {
    oct_graph *g = calloc(1, sizeof *g);
    return g;
}

void oct_attr_clear(oct_attr *a) {
    free(a->name);
    free(a->s);
    free(a->floats);
    free(a->ints);
    if (a->strings) {
        for (int64_t i = 0; i < a->n; i++) free(a->strings[i]);
        free(a->strings);
    }
    if (a->t) {
        oct_tensor_release(a->t);
        free(a->t);
    }
    memset(a, 0, sizeof *a);
}

static void node_clear(oct_node *n) {
    free(n->name);
    free(n->op_type);
    free(n->domain);
    free(n->in);
    free(n->out);
    for (int i = 0; i < n->n_attr; i++) oct_attr_clear(&n->attrs[i]);
    free(n->attrs);
    memset(n, 0, sizeof *n);
}

static void value_clear(oct_value *v) {
    free(v->name);
    oct_tensor_release(&v->t);
    for (int i = 0; i < OCT_MAX_DIMS; i++) free(v->dim_names[i]);
    memset(v, 0, sizeof *v);
}

void oct_graph_free(oct_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_values; i++) value_clear(&g->values[i]);
    for (int i = 0; i < g->n_nodes; i++) node_clear(&g->nodes[i]);
    free(g->values);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    free(g->hash);
    free(g);
}

static int hash_rebuild(oct_graph *g, int cap) {
    int *h = malloc(sizeof(int) * (size_t)cap);
    if (!h) return -1;
    for (int i = 0; i < cap; i++) h[i] = -1;
    for (int v = 0; v < g->n_values; v++) {
        uint64_t k = hash_str(g->values[v].name) & (uint64_t)(cap - 1);
        while (h[k] >= 0) k = (k + 1) & (uint64_t)(cap - 1);
        h[k] = v;
    }
    free(g->hash);
    g->hash = h;
    g->hash_cap = cap;
    return 0;
}

int oct_graph_find(const oct_graph *g, const char *name) {
    if (!g->hash_cap || !name) return -1;
    uint64_t k = hash_str(name) & (uint64_t)(g->hash_cap - 1);
    while (g->hash[k] >= 0) {
        if (!strcmp(g->values[g->hash[k]].name, name)) return g->hash[k];
        k = (k + 1) & (uint64_t)(g->hash_cap - 1);
    }
    return -1;
}

static int add_value(oct_graph *g, const char *name) {
    if (g->n_values == g->cap_values) {
        int nc = g->cap_values ? g->cap_values * 2 : 64;
        oct_value *nv = realloc(g->values, sizeof *nv * (size_t)nc);
        if (!nv) return -1;
        g->values = nv;
        g->cap_values = nc;
    }
    oct_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = xstrdup(name);
    if (!v->name) return -1;
    v->producer = -1;
    g->n_values++;
    if (g->n_values * 2 > g->hash_cap) {
        if (hash_rebuild(g, g->hash_cap ? g->hash_cap * 2 : 128)) return -1;
    } else {
        uint64_t k = hash_str(name) & (uint64_t)(g->hash_cap - 1);
        while (g->hash[k] >= 0) k = (k + 1) & (uint64_t)(g->hash_cap - 1);
        g->hash[k] = g->n_values - 1;
    }
    return g->n_values - 1;
}

int oct_graph_value(oct_graph *g, const char *name) {
    int v = oct_graph_find(g, name);
    return v >= 0 ? v : add_value(g, name);
}

int oct_graph_new_value(oct_graph *g, const char *hint) {
    char buf[512];
    for (int k = 0;; k++) {
        snprintf(buf, sizeof buf, "%s__oct%d", hint ? hint : "t", k);
        if (oct_graph_find(g, buf) < 0) return add_value(g, buf);
    }
}

int oct_graph_add_node(oct_graph *g, const char *name, const char *op_type, const char *domain,
                       int n_in, const int *in, int n_out, const int *out) {
    if (g->n_nodes == g->cap_nodes) {
        int nc = g->cap_nodes ? g->cap_nodes * 2 : 64;
        oct_node *nn = realloc(g->nodes, sizeof *nn * (size_t)nc);
        if (!nn) return -1;
        g->nodes = nn;
        g->cap_nodes = nc;
    }
    oct_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->name = xstrdup(name);
    n->op_type = xstrdup(op_type);
    n->domain = xstrdup(domain);
    n->in = malloc(sizeof(int) * (size_t)(n_in ? n_in : 1));
    n->out = malloc(sizeof(int) * (size_t)(n_out ? n_out : 1));
    if (!n->name || !n->op_type || !n->domain || !n->in || !n->out) {
        node_clear(n);
        return -1;
    }
    n->n_in = n_in;
    n->n_out = n_out;
    if (n_in) memcpy(n->in, in, sizeof(int) * (size_t)n_in);
    if (n_out) memcpy(n->out, out, sizeof(int) * (size_t)n_out);
    return g->n_nodes++;
}

/* ---- attributes --------------------------------------------------------- */
const oct_attr *oct_attr_find(const oct_node *n, const char *name) {
    for (int i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}
int64_t oct_attr_int(const oct_node *n, const char *name, int64_t def) {
    const oct_attr *a = oct_attr_find(n, name);
    if (!a) return def;
    if (a->type == OCT_ATTR_INT) return a->i;
    if (a->type == OCT_ATTR_FLOAT) return (int64_t)a->f;
    return def;
}
float oct_attr_float(const oct_node *n, const char *name, float def) {
    const oct_attr *a = oct_attr_find(n, name);
    if (!a) return def;
    if (a->type == OCT_ATTR_FLOAT) return a->f;
    if (a->type == OCT_ATTR_INT) return (float)a->i;
    return def;
}
const char *oct_attr_str(const oct_node *n, const char *name, const char *def) {
    const oct_attr *a = oct_attr_find(n, name);
    return a && a->type == OCT_ATTR_STRING && a->s ? a->s : def;
}
int64_t oct_attr_ints(const oct_node *n, const char *name, const int64_t **v) {
    const oct_attr *a = oct_attr_find(n, name);
    if (!a || a->type != OCT_ATTR_INTS) return -1;
    if (v) *v = a->ints;
    return a->n;
}
int64_t oct_attr_floats(const oct_node *n, const char *name, const float **v) {
    const oct_attr *a = oct_attr_find(n, name);
    if (!a || a->type != OCT_ATTR_FLOATS) return -1;
    if (v) *v = a->floats;
    return a->n;
}
const oct_tensor *oct_attr_tensor(const oct_node *n, const char *name) {
    const oct_attr *a = oct_attr_find(n, name);
    return a && a->type == OCT_ATTR_TENSOR ? a->t : NULL;
}

oct_status oct_attr_copy(oct_attr *d, const oct_attr *s) {
    memset(d, 0, sizeof *d);
    d->type = s->type;
    d->f = s->f;
    d->i = s->i;
    d->n = s->n;
    d->name = xstrdup(s->name);
    if (!d->name) return OCT_E_NOMEM;
    if (s->s && !(d->s = xstrdup(s->s))) return OCT_E_NOMEM;
    if (s->floats) {
        d->floats = malloc(sizeof(float) * (size_t)(s->n ? s->n : 1));
        if (!d->floats) return OCT_E_NOMEM;
        memcpy(d->floats, s->floats, sizeof(float) * (size_t)s->n);
    }
    if (s->ints) {
        d->ints = malloc(sizeof(int64_t) * (size_t)(s->n ? s->n : 1));
        if (!d->ints) return OCT_E_NOMEM;
        memcpy(d->ints, s->ints, sizeof(int64_t) * (size_t)s->n);
    }
    if (s->strings) {
        d->strings = calloc((size_t)(s->n ? s->n : 1), sizeof(char *));
        if (!d->strings) return OCT_E_NOMEM;
        for (int64_t i = 0; i < s->n; i++)
            if (!(d->strings[i] = xstrdup(s->strings[i]))) return OCT_E_NOMEM;
    }
    if (s->t) {
        d->t = calloc(1, sizeof *d->t);
        if (!d->t) return OCT_E_NOMEM;
        OCT_TRY(oct_tensor_copy(d->t, s->t));
    }
    return OCT_OK;
}

/* ---- whole-graph operations --------------------------------------------- */
oct_status oct_graph_clone(const oct_graph *g, oct_graph **out, oct_error *err) {
    oct_graph *c = oct_graph_new();
    if (!c) return oct_fail(err, OCT_E_NOMEM, "out of memory cloning the graph");
    c->opset = g->opset;
    c->ir_version = g->ir_version;
    for (int i = 0; i < g->n_values; i++) {
        const oct_value *s = &g->values[i];
        int v = add_value(c, s->name);
        if (v < 0) goto nomem;
        oct_value *d = &c->values[v];
        d->shape_known = s->shape_known;
        d->is_const = s->is_const;
        d->is_input = s->is_input;
        d->is_output = s->is_output;
        d->producer = s->producer;
        if (oct_tensor_copy(&d->t, &s->t)) goto nomem;
        for (int k = 0; k < OCT_MAX_DIMS; k++)
            if (s->dim_names[k] && !(d->dim_names[k] = xstrdup(s->dim_names[k]))) goto nomem;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const oct_node *s = &g->nodes[i];
        int k = oct_graph_add_node(c, s->name, s->op_type, s->domain, s->n_in, s->in, s->n_out, s->out);
        if (k < 0) goto nomem;
        oct_node *d = &c->nodes[k];
        d->opset = s->opset;
        d->def = s->def;
        d->dead = s->dead;
        d->dynamic = s->dynamic;
        if (s->n_attr) {
            d->attrs = calloc((size_t)s->n_attr, sizeof *d->attrs);
            if (!d->attrs) goto nomem;
            d->n_attr = s->n_attr;
            for (int a = 0; a < s->n_attr; a++)
                if (oct_attr_copy(&d->attrs[a], &s->attrs[a])) goto nomem;
        }
    }
    c->inputs = malloc(sizeof(int) * (size_t)(g->n_inputs + 1));
    c->outputs = malloc(sizeof(int) * (size_t)(g->n_outputs + 1));
    if (!c->inputs || !c->outputs) goto nomem;
    memcpy(c->inputs, g->inputs, sizeof(int) * (size_t)g->n_inputs);
    memcpy(c->outputs, g->outputs, sizeof(int) * (size_t)g->n_outputs);
    c->n_inputs = g->n_inputs;
    c->n_outputs = g->n_outputs;
    *out = c;
    return OCT_OK;
nomem:
    oct_graph_free(c);
    return oct_fail(err, OCT_E_NOMEM, "out of memory cloning the graph");
}

void oct_graph_link(oct_graph *g) {
    for (int v = 0; v < g->n_values; v++) g->values[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].dead) continue;
        for (int o = 0; o < g->nodes[i].n_out; o++)
            if (g->nodes[i].out[o] >= 0) g->values[g->nodes[i].out[o]].producer = i;
    }
}

int *oct_graph_use_counts(const oct_graph *g) {
    int *u = calloc((size_t)(g->n_values + 1), sizeof(int));
    if (!u) return NULL;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].dead) continue;
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0) u[g->nodes[i].in[k]]++;
    }
    return u;
}

void oct_graph_compact(oct_graph *g) {
    int w = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].dead) {
            node_clear(&g->nodes[i]);
            continue;
        }
        if (w != i) g->nodes[w] = g->nodes[i];
        w++;
    }
    g->n_nodes = w;
    oct_graph_link(g);
}

oct_status oct_graph_toposort(oct_graph *g, oct_error *err) {
    /* Kahn's algorithm over live nodes; ties keep file order so that the
     * order is deterministic and close to the exporter's. */
    int n = g->n_nodes;
    int *prod = malloc(sizeof(int) * (size_t)(g->n_values + 1));
    int *indeg = calloc((size_t)n + 1, sizeof(int));
    int *order = malloc(sizeof(int) * ((size_t)n + 1));
    int *ready = malloc(sizeof(int) * ((size_t)n + 1));
    oct_status st = OCT_OK;
    if (!prod || !indeg || !order || !ready) {
        st = oct_fail(err, OCT_E_NOMEM, "out of memory sorting the graph");
        goto done;
    }
    for (int v = 0; v < g->n_values; v++) prod[v] = -1;
    for (int i = 0; i < n; i++) {
        if (g->nodes[i].dead) continue;
        for (int o = 0; o < g->nodes[i].n_out; o++) {
            int v = g->nodes[i].out[o];
            if (v < 0) continue;
            if (prod[v] >= 0 || g->values[v].is_const || g->values[v].is_input) {
                st = oct_fail(err, OCT_E_PARSE, "tensor '%s' is produced twice (node '%s')",
                              g->values[v].name, g->nodes[i].name);
                goto done;
            }
            prod[v] = i;
        }
    }
    for (int i = 0; i < n; i++) {
        if (g->nodes[i].dead) continue;
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v < 0) continue;
            if (prod[v] >= 0)
                indeg[i]++;
            else if (!g->values[v].is_const && !g->values[v].is_input) {
                st = oct_fail(err, OCT_E_PARSE,
                              "node '%s' (%s): input %d '%s' is neither a graph input, an "
                              "initializer nor produced by any node",
                              g->nodes[i].name, g->nodes[i].op_type, k, g->values[v].name);
                goto done;
            }
        }
    }
    int nr = 0, no = 0, live = 0;
    for (int i = 0; i < n; i++) {
        if (g->nodes[i].dead) continue;
        live++;
        if (!indeg[i]) ready[nr++] = i;
    }
    /* ready is used as a FIFO sorted by index: process in index order */
    int head = 0;
    while (head < nr) {
        int i = ready[head++];
        order[no++] = i;
        for (int o = 0; o < g->nodes[i].n_out; o++) {
            int v = g->nodes[i].out[o];
            if (v < 0) continue;
            for (int j = 0; j < n; j++) {
                if (g->nodes[j].dead) continue;
                for (int k = 0; k < g->nodes[j].n_in; k++)
                    if (g->nodes[j].in[k] == v && --indeg[j] == 0) ready[nr++] = j;
            }
        }
    }
    if (no != live) {
        st = oct_fail(err, OCT_E_PARSE, "the graph has a cycle (%d of %d nodes ordered)", no, live);
        goto done;
    }
    {
        oct_node *nn = malloc(sizeof *nn * ((size_t)n + 1));
        if (!nn) {
            st = oct_fail(err, OCT_E_NOMEM, "out of memory sorting the graph");
            goto done;
        }
        int w = 0;
        for (int k = 0; k < no; k++) nn[w++] = g->nodes[order[k]];
        for (int i = 0; i < n; i++)
            if (g->nodes[i].dead) node_clear(&g->nodes[i]);
        free(g->nodes);
        g->nodes = nn;
        g->n_nodes = w;
        g->cap_nodes = n + 1;
        oct_graph_link(g);
    }
done:
    free(prod);
    free(indeg);
    free(order);
    free(ready);
    return st;
}
