/* See proto_edit.h: in-place edits of an unpacked ModelProto that can be
 * undone exactly, so protobuf-c frees only what it allocated. */
#include "onnx/proto_edit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int oct_pvec_push(oct_pvec *p, void *x) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        void **v = realloc(p->v, cap * sizeof *v);
        if (!v) return -1;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = x;
    return 0;
}

void oct_pvec_free(oct_pvec *p) {
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

/* ---- string map ---- */

static size_t name_hash(const char *s) {
    size_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t smap_slot(const oct_smap *m, const char *key) {
    size_t i = name_hash(key) & (m->cap - 1);
    while (m->k[i] && strcmp(m->k[i], key)) i = (i + 1) & (m->cap - 1);
    return i;
}

void *oct_smap_get(const oct_smap *m, const char *key) {
    if (!m->cap || !key) return NULL;
    size_t i = smap_slot(m, key);
    return m->k[i] ? m->v[i] : NULL;
}

int oct_smap_put(oct_smap *m, const char *key, void *val) {
    if (2 * (m->n + 1) > m->cap) {
        oct_smap b = {NULL, NULL, 0, m->cap ? m->cap * 2 : 1024};
        b.k = calloc(b.cap, sizeof *b.k);
        b.v = calloc(b.cap, sizeof *b.v);
        if (!b.k || !b.v) {
            free(b.k);
            free(b.v);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->k[i]) {
                size_t j = smap_slot(&b, m->k[i]);
                b.k[j] = m->k[i];
                b.v[j] = m->v[i];
                b.n++;
            }
        free(m->k);
        free(m->v);
        *m = b;
    }
    size_t i = smap_slot(m, key);
    if (!m->k[i]) {
        m->k[i] = key;
        m->n++;
    }
    m->v[i] = val;
    return 0;
}

void oct_smap_free(oct_smap *m) {
    free(m->k);
    free(m->v);
    memset(m, 0, sizeof *m);
}

void pe_init(oct_pedit *pe) { memset(pe, 0, sizeof *pe); }

void pe_finish(oct_pedit *pe) {
    for (size_t i = pe->n_saves; i-- > 0;) memcpy(pe->saves[i].addr, pe->saves[i].old, pe->saves[i].len);
    for (size_t i = 0; i < pe->owned.n; i++) free(pe->owned.v[i]);
    oct_pvec_free(&pe->owned);
    free(pe->saves);
    free(pe->names);
    memset(pe, 0, sizeof *pe);
}

void *pe_alloc(oct_pedit *pe, size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (p && oct_pvec_push(&pe->owned, p) == 0) return p;
    free(p);
    pe->nomem = 1;
    return NULL;
}

char *pe_strdup(oct_pedit *pe, const char *s) {
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *d = pe_alloc(pe, n);
    if (d) memcpy(d, s, n);
    return d;
}

char *pe_printf(oct_pedit *pe, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        pe->nomem = 1;
        return NULL;
    }
    char *s = pe_alloc(pe, (size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

int pe_save(oct_pedit *pe, void *addr, size_t len) {
    if (len > sizeof pe->saves[0].old) return -1; /* a programming error, never data-driven */
    if (pe->n_saves == pe->cap_saves) {
        size_t cap = pe->cap_saves ? pe->cap_saves * 2 : 64;
        oct_psave *s = realloc(pe->saves, cap * sizeof *s);
        if (!s) {
            pe->nomem = 1;
            return -1;
        }
        pe->saves = s;
        pe->cap_saves = cap;
    }
    oct_psave *s = &pe->saves[pe->n_saves++];
    s->addr = addr;
    s->len = len;
    memcpy(s->old, addr, len);
    return 0;
}

/* ---- names ---- */

int pe_name_used(const oct_pedit *pe, const char *name) {
    if (!pe->cap_names || !name) return 0;
    for (size_t i = name_hash(name) & (pe->cap_names - 1);; i = (i + 1) & (pe->cap_names - 1)) {
        if (!pe->names[i]) return 0;
        if (!strcmp(pe->names[i], name)) return 1;
    }
}

static void name_insert(const char **tab, size_t cap, const char *name) {
    size_t i = name_hash(name) & (cap - 1);
    while (tab[i]) i = (i + 1) & (cap - 1);
    tab[i] = name;
}

int pe_name_add(oct_pedit *pe, const char *name) {
    if (!name || !*name || pe_name_used(pe, name)) return 0;
    if (2 * (pe->n_names + 1) > pe->cap_names) {
        size_t cap = pe->cap_names ? pe->cap_names * 2 : 1024;
        const char **tab = calloc(cap, sizeof *tab);
        if (!tab) {
            pe->nomem = 1;
            return -1;
        }
        for (size_t i = 0; i < pe->cap_names; i++)
            if (pe->names[i]) name_insert(tab, cap, pe->names[i]);
        free(pe->names);
        pe->names = tab;
        pe->cap_names = cap;
    }
    name_insert(pe->names, pe->cap_names, name);
    pe->n_names++;
    return 0;
}

char *pe_unique(oct_pedit *pe, const char *base, const char *suffix) {
    char *s = pe_printf(pe, "%s%s", base, suffix);
    for (int k = 1; s && pe_name_used(pe, s); k++) s = pe_printf(pe, "%s%s_%d", base, suffix, k);
    if (s && pe_name_add(pe, s)) return NULL;
    return s;
}

/* ---- nodes and attributes ---- */

Onnx__NodeProto *pe_node(oct_pedit *pe, const char *op_type, const char *name, size_t n_in,
                         const char *const *in, size_t n_out, const char *const *out) {
    Onnx__NodeProto *n = pe_alloc(pe, sizeof *n);
    if (!n) return NULL;
    onnx__node_proto__init(n);
    n->op_type = pe_strdup(pe, op_type);
    n->name = pe_strdup(pe, name);
    n->domain = pe_strdup(pe, "");
    n->input = pe_alloc(pe, (n_in + 1) * sizeof(char *));
    n->output = pe_alloc(pe, (n_out + 1) * sizeof(char *));
    if (!n->op_type || !n->name || !n->domain || !n->input || !n->output) return NULL;
    n->n_input = n_in;
    n->n_output = n_out;
    for (size_t i = 0; i < n_in; i++)
        if (!(n->input[i] = pe_strdup(pe, in[i]))) return NULL;
    for (size_t i = 0; i < n_out; i++)
        if (!(n->output[i] = pe_strdup(pe, out[i]))) return NULL;
    return n;
}

const Onnx__AttributeProto *pe_attr_find(const Onnx__NodeProto *n, const char *name) {
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name)) return n->attribute[i];
    return NULL;
}

static Onnx__AttributeProto *new_attr(oct_pedit *pe, const char *name, Onnx__AttributeProto__AttributeType t) {
    Onnx__AttributeProto *a = pe_alloc(pe, sizeof *a);
    if (!a) return NULL;
    onnx__attribute_proto__init(a);
    if (!(a->name = pe_strdup(pe, name))) return NULL;
    a->has_type = 1;
    a->type = t;
    return a;
}

Onnx__AttributeProto *pe_attr_int(oct_pedit *pe, const char *name, int64_t v) {
    Onnx__AttributeProto *a = new_attr(pe, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) {
        a->has_i = 1;
        a->i = v;
    }
    return a;
}

Onnx__AttributeProto *pe_attr_str(oct_pedit *pe, const char *name, const char *s) {
    Onnx__AttributeProto *a = new_attr(pe, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    char *d = a ? pe_strdup(pe, s) : NULL;
    if (!d) return NULL;
    a->has_s = 1;
    a->s.data = (uint8_t *)d;
    a->s.len = strlen(d);
    return a;
}

int pe_attr_add(oct_pedit *pe, Onnx__NodeProto *n, Onnx__AttributeProto *a) {
    if (!a) return -1;
    Onnx__AttributeProto **arr = pe_alloc(pe, (n->n_attribute + 1) * sizeof *arr);
    if (!arr) return -1;
    for (size_t i = 0; i < n->n_attribute; i++) arr[i] = n->attribute[i];
    arr[n->n_attribute] = a;
    if (PE_SET(pe, n->attribute, arr) || PE_SET(pe, n->n_attribute, n->n_attribute + 1)) return -1;
    return 0;
}

int pe_attr_remove(oct_pedit *pe, Onnx__NodeProto *n, const char *name) {
    if (!pe_attr_find(n, name)) return 0;
    Onnx__AttributeProto **arr = pe_alloc(pe, (n->n_attribute + 1) * sizeof *arr);
    if (!arr) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n->n_attribute; i++)
        if (!n->attribute[i]->name || strcmp(n->attribute[i]->name, name)) arr[k++] = n->attribute[i];
    if (PE_SET(pe, n->attribute, arr) || PE_SET(pe, n->n_attribute, k)) return -1;
    return 0;
}

int pe_attr_set_int(oct_pedit *pe, Onnx__NodeProto *n, const char *name, int64_t v) {
    if (pe_attr_remove(pe, n, name)) return -1;
    return pe_attr_add(pe, n, pe_attr_int(pe, name, v));
}

int pe_set_inputs(oct_pedit *pe, Onnx__NodeProto *n, size_t count, char *const *names) {
    char **arr = pe_alloc(pe, (count + 1) * sizeof *arr);
    if (!arr) return -1;
    for (size_t i = 0; i < count; i++)
        if (!(arr[i] = names[i] ? names[i] : pe_strdup(pe, ""))) return -1;
    if (PE_SET(pe, n->input, arr) || PE_SET(pe, n->n_input, count)) return -1;
    return 0;
}

/* ---- tensors ---- */

Onnx__TensorProto *pe_tensor(oct_pedit *pe, const char *name, int32_t data_type, int ndim,
                             const int64_t *dims, const void *raw, size_t nbytes) {
    Onnx__TensorProto *t = pe_alloc(pe, sizeof *t);
    if (!t) return NULL;
    onnx__tensor_proto__init(t);
    t->name = pe_strdup(pe, name);
    t->dims = pe_alloc(pe, ((size_t)ndim + 1) * sizeof *t->dims);
    uint8_t *data = pe_alloc(pe, nbytes);
    if (!t->name || !t->dims || !data) return NULL;
    t->n_dims = (size_t)ndim;
    for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
    t->has_data_type = 1;
    t->data_type = data_type;
    if (nbytes) memcpy(data, raw, nbytes);
    t->has_raw_data = 1;
    t->raw_data.data = data;
    t->raw_data.len = nbytes;
    return t;
}

oct_status pe_tensor_floats(const Onnx__TensorProto *t, float **out, size_t *count, oct_error *err) {
    const char *nm = t->name ? t->name : "";
    *out = NULL;
    *count = 0;
    if (!t->has_data_type || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return oct_fail(err, OCT_E_UNSUPPORTED, "tensor '%s' is not float32", nm);
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return oct_fail(err, OCT_E_UNSUPPORTED, "tensor '%s' uses external data", nm);
    size_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || (t->dims[i] && n > ((size_t)1 << 40) / (size_t)t->dims[i]))
            return oct_fail(err, OCT_E_PARSE, "tensor '%s' has an invalid shape", nm);
        n *= (size_t)t->dims[i];
    }
    const void *src;
    if (t->has_raw_data) {
        if (t->raw_data.len != n * sizeof(float))
            return oct_fail(err, OCT_E_PARSE, "tensor '%s': raw_data has %zu bytes, its shape needs %zu", nm,
                            t->raw_data.len, n * sizeof(float));
        src = t->raw_data.data;
    } else {
        if (t->n_float_data != n)
            return oct_fail(err, OCT_E_PARSE, "tensor '%s': %zu values stored, its shape needs %zu", nm,
                            t->n_float_data, n);
        src = t->float_data;
    }
    float *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    if (n) memcpy(v, src, n * sizeof *v);
    *out = v;
    *count = n;
    return OCT_OK;
}
