/* See model_edit.h. The node and initializer lists live in the editor's own
 * vectors while editing and are put into the GraphProto (through PE_SET, so
 * pe_finish restores protobuf-c's arrays) only when writing. */
#include "onnx/model_edit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx_import.h"
#include "onnx/proto_edit.h"

struct oct_model_edit {
    oct_pedit pe;
    Onnx__ModelProto *mp;
    oct_pvec nodes; /* Onnx__NodeProto *, in graph order */
    oct_pvec inits; /* Onnx__TensorProto * */
    oct_smap init_by_name;
    oct_smap node_by_key; /* importer's node names; NULL once a node is replaced */
    oct_smap producer;    /* tensor name -> Onnx__NodeProto * */
    oct_pvec droppable;   /* names of Clip bounds that may have lost their last reader */
    int64_t opset;
};

static oct_status nomem(oct_error *err) { return oct_fail(err, OCT_E_NOMEM, "out of memory"); }

static int default_domain(const Onnx__NodeProto *n) {
    return !n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx");
}

static int put_first(oct_smap *m, const char *key, void *val) {
    if (!key || !*key || oct_smap_get(m, key)) return 0;
    return oct_smap_put(m, key, val);
}

static oct_status index_model(oct_model_edit *e, oct_error *err) {
    Onnx__ModelProto *mp = e->mp;
    Onnx__GraphProto *g = mp->graph;
    oct_pedit *pe = &e->pe;
    int fail = 0;
    e->opset = mp->n_opset_import ? 1 : 7; /* as the importer reads IR 1-2 models */
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx"))
            e->opset = o->has_version ? o->version : 1;
    }
    for (size_t i = 0; i < g->n_initializer && !fail; i++) {
        Onnx__TensorProto *t = g->initializer[i];
        fail = oct_pvec_push(&e->inits, t) || put_first(&e->init_by_name, t->name, t) ||
               pe_name_add(pe, t->name);
    }
    for (size_t i = 0; i < g->n_input && !fail; i++)
        fail = pe_name_add(pe, g->input[i]->name);
    for (size_t i = 0; i < g->n_output && !fail; i++)
        fail = pe_name_add(pe, g->output[i]->name);
    for (size_t i = 0; i < g->n_value_info && !fail; i++)
        fail = pe_name_add(pe, g->value_info[i]->name);
    for (size_t i = 0; i < g->n_node && !fail; i++) {
        Onnx__NodeProto *np = g->node[i];
        if (!np->op_type || !*np->op_type)
            return oct_fail(err, OCT_E_PARSE, "node %zu has no op_type", i);
        const char *key = np->name;
        if (!key || !*key) key = pe_printf(pe, "%s_%zu", np->op_type, i);
        fail = !key || oct_pvec_push(&e->nodes, np) || put_first(&e->node_by_key, key, np) ||
               pe_name_add(pe, key);
        for (size_t k = 0; k < np->n_input && !fail; k++)
            fail = pe_name_add(pe, np->input[k]);
        for (size_t k = 0; k < np->n_output && !fail; k++)
            fail = put_first(&e->producer, np->output[k], np) || pe_name_add(pe, np->output[k]);
    }
    return fail || pe->nomem ? nomem(err) : OCT_OK;
}

oct_status oct_model_edit_open_memory(const void *data, size_t size, oct_model_edit **out,
                                      oct_error *err) {
    if (!out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_model_edit_open_memory: NULL argument");
    *out = NULL;
    if (!data || !size) return oct_fail(err, OCT_E_PARSE, "the model is empty");
    oct_model_edit *e = calloc(1, sizeof *e);
    if (!e) return nomem(err);
    pe_init(&e->pe);
    e->mp = onnx__model_proto__unpack(NULL, size, data);
    oct_status st = OCT_OK;
    if (!e->mp || !e->mp->graph)
        st = oct_fail(err, OCT_E_PARSE, "not a valid ONNX model (protobuf parsing failed)");
    if (!st) st = index_model(e, err);
    if (st) {
        oct_model_edit_close(e);
        return st;
    }
    *out = e;
    return OCT_OK;
}

oct_status oct_model_edit_open(const char *path, oct_model_edit **out, oct_error *err) {
    if (!path || !out)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_model_edit_open: NULL argument");
    *out = NULL;
    oct_mapped_file f;
    OCT_TRY(oct_map_file(path, &f, err));
    oct_status st = oct_model_edit_open_memory(f.data, f.size, out, err);
    oct_unmap_file(&f);
    if (st) oct_error_prefix(err, "%s: ", path);
    return st;
}

void oct_model_edit_close(oct_model_edit *e) {
    if (!e) return;
    pe_finish(&e->pe); /* before free_unpacked: it puts protobuf-c's own arrays back */
    if (e->mp) onnx__model_proto__free_unpacked(e->mp, NULL);
    oct_pvec_free(&e->nodes);
    oct_pvec_free(&e->inits);
    oct_pvec_free(&e->droppable);
    oct_smap_free(&e->init_by_name);
    oct_smap_free(&e->node_by_key);
    oct_smap_free(&e->producer);
    free(e);
}

/* ---- tensors ---- */

static void put_le(uint8_t *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &src[i], 4);
        for (int b = 0; b < 4; b++)
            dst[4 * i + (size_t)b] = (uint8_t)(u >> (8 * b));
    }
}

/* The tensor holding `name`'s value: an initializer, or a Constant's `value`. */
static Onnx__TensorProto *find_tensor(oct_model_edit *e, const char *name) {
    Onnx__TensorProto *t = oct_smap_get(&e->init_by_name, name);
    if (t) return t;
    Onnx__NodeProto *np = oct_smap_get(&e->producer, name);
    if (!np || !default_domain(np) || strcmp(np->op_type, "Constant")) return NULL;
    const Onnx__AttributeProto *a = pe_attr_find(np, "value");
    return a ? a->t : NULL;
}

static const char *shape_str(const Onnx__TensorProto *t, char *buf, size_t len) {
    size_t k = (size_t)snprintf(buf, len, "[");
    for (size_t i = 0; i < t->n_dims && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
    if (k < len) snprintf(buf + k, len - k, "]");
    return buf;
}

static oct_status store(oct_model_edit *e, Onnx__TensorProto *t, const float *data, size_t n,
                        oct_error *err) {
    const char *nm = t->name ? t->name : "";
    if (!t->has_data_type || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return oct_fail(err, OCT_E_UNSUPPORTED, "tensor '%s' is not float32 (data type %d)", nm,
                        t->has_data_type ? (int)t->data_type : 0);
    size_t count = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || (t->dims[i] && count > ((size_t)1 << 40) / (size_t)t->dims[i]))
            return oct_fail(err, OCT_E_PARSE, "tensor '%s' has an invalid shape", nm);
        count *= (size_t)t->dims[i];
    }
    char sb[256];
    if (n != count)
        return oct_fail(err, OCT_E_SHAPE,
                        "tensor '%s' has shape %s (%zu elements); %zu values given", nm,
                        shape_str(t, sb, sizeof sb), count, n);
    int external =
        t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    /* protobuf-c copied raw_data out of the file, so a buffer of the right
     * size is simply overwritten: repeated edits allocate nothing */
    if (!external && t->has_raw_data && t->raw_data.len == n * 4 && t->raw_data.data) {
        put_le(t->raw_data.data, data, n);
        return OCT_OK;
    }
    oct_pedit *pe = &e->pe;
    uint8_t *buf = pe_alloc(pe, n * 4);
    if (!buf) return nomem(err);
    put_le(buf, data, n);
    ProtobufCBinaryData raw = {n * 4, buf};
    if (PE_SET(pe, t->has_raw_data, 1) || PE_SET(pe, t->raw_data, raw) ||
        PE_SET(pe, t->n_float_data, 0))
        return nomem(err);
    if (external && (PE_SET(pe, t->data_location, ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT) ||
                     PE_SET(pe, t->n_external_data, 0)))
        return nomem(err);
    return OCT_OK;
}

oct_status oct_model_edit_set_tensor(oct_model_edit *e, const char *name, const float *data,
                                     size_t n, oct_error *err) {
    if (!e || !name || (!data && n))
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_model_edit_set_tensor: NULL argument");
    Onnx__TensorProto *t = find_tensor(e, name);
    if (!t)
        return oct_fail(err, OCT_E_NOT_FOUND,
                        "tensor '%s' is neither an initializer nor a Constant node's value", name);
    return store(e, t, data, n, err);
}

/* ---- nodes ---- */

static oct_status find_node(oct_model_edit *e, const char *name, const char *what,
                            Onnx__NodeProto **out, oct_error *err) {
    *out = name ? oct_smap_get(&e->node_by_key, name) : NULL;
    if (!*out)
        return oct_fail(err, OCT_E_NOT_FOUND, "%s: no node named '%s'", what,
                        name ? name : "(null)");
    return OCT_OK;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t def) {
    const Onnx__AttributeProto *a = pe_attr_find(n, name);
    return a ? a->i : def;
}

/* The bias length the node's constant weights imply, or -1 when unknown. */
static int64_t bias_len(oct_model_edit *e, const Onnx__NodeProto *np) {
    Onnx__TensorProto *w = np->n_input > 1 ? find_tensor(e, np->input[1]) : NULL;
    if (!w || w->n_dims < 2) return -1;
    if (!strcmp(np->op_type, "Conv")) return w->dims[0];
    if (!strcmp(np->op_type, "ConvTranspose")) return w->dims[1] * attr_int(np, "group", 1);
    return w->n_dims == 2 ? w->dims[attr_int(np, "transB", 0) ? 0 : 1] : -1;
}

oct_status oct_model_edit_set_bias(oct_model_edit *e, const char *node_name, const float *bias,
                                   size_t n, oct_error *err) {
    if (!e || !bias || !n)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_model_edit_set_bias: bad argument");
    Onnx__NodeProto *np;
    OCT_TRY(find_node(e, node_name, "set_bias", &np, err));
    int gemm = !strcmp(np->op_type, "Gemm");
    if (!default_domain(np) ||
        (!gemm && strcmp(np->op_type, "Conv") && strcmp(np->op_type, "ConvTranspose")))
        return oct_fail(err, OCT_E_UNSUPPORTED,
                        "node '%s' is a %s; a bias is set on Conv, ConvTranspose or Gemm",
                        node_name, np->op_type);
    int64_t want = bias_len(e, np);
    if (want >= 0 && (int64_t)n != want)
        return oct_fail(err, OCT_E_SHAPE,
                        "node '%s' (%s) has %lld output channels; %zu bias values given", node_name,
                        np->op_type, (long long)want, n);
    if (np->n_input > 2 && *np->input[2]) {
        Onnx__TensorProto *t = find_tensor(e, np->input[2]);
        if (!t)
            return oct_fail(err, OCT_E_UNSUPPORTED,
                            "node '%s': its bias '%s' is computed, not a constant", node_name,
                            np->input[2]);
        char sb[256];
        if (gemm && t->n_dims != 1)
            return oct_fail(err, OCT_E_UNSUPPORTED,
                            "Gemm '%s': C '%s' has shape %s; only a 1-D [N] bias can be set",
                            node_name, np->input[2], shape_str(t, sb, sizeof sb));
        oct_status st = store(e, t, bias, n, err);
        if (st) oct_error_prefix(err, "node '%s': ", node_name);
        return st;
    }
    oct_pedit *pe = &e->pe;
    char *bn = pe_unique(pe, node_name, "_bias");
    uint8_t *raw = bn ? malloc(n * 4) : NULL;
    if (!raw) return nomem(err);
    put_le(raw, bias, n);
    int64_t dim = (int64_t)n;
    Onnx__TensorProto *t =
        pe_tensor(pe, bn, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &dim, raw, n * 4);
    free(raw);
    char *ins[3] = {np->input[0], np->input[1], bn};
    if (!t || oct_pvec_push(&e->inits, t) || oct_smap_put(&e->init_by_name, bn, t) ||
        pe_set_inputs(pe, np, 3, ins))
        return nomem(err);
    return OCT_OK;
}

/* Position of np in the node list, or -1. */
static long node_pos(const oct_model_edit *e, const Onnx__NodeProto *np) {
    for (size_t i = 0; i < e->nodes.n; i++)
        if (e->nodes.v[i] == np) return (long)i;
    return -1;
}

static Onnx__TensorProto *new_bound(oct_model_edit *e, const char *clip, const char *suffix,
                                    const float *v, int c) {
    uint8_t *raw = malloc((size_t)c * 4);
    char *name = raw ? pe_unique(&e->pe, clip, suffix) : NULL;
    Onnx__TensorProto *t = NULL;
    if (name) {
        put_le(raw, v, (size_t)c);
        int64_t dims[4] = {1, c, 1, 1};
        t = pe_tensor(&e->pe, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, dims, raw,
                      (size_t)c * 4);
        if (t && (oct_pvec_push(&e->inits, t) || oct_smap_put(&e->init_by_name, name, t))) t = NULL;
    }
    free(raw);
    return t;
}

oct_status oct_model_edit_clip_per_channel(oct_model_edit *e, const char *node_name,
                                           const float *lo, const float *hi, int channels,
                                           oct_error *err) {
    if (!e || !lo || !hi || channels <= 0)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_model_edit_clip_per_channel: bad argument");
    Onnx__NodeProto *clip;
    OCT_TRY(find_node(e, node_name, "clip_per_channel", &clip, err));
    if (!default_domain(clip) || strcmp(clip->op_type, "Clip"))
        return oct_fail(err, OCT_E_INVALID_ARG, "node '%s' is a %s, not a Clip", node_name,
                        clip->op_type);
    if (clip->n_input < 1 || !*clip->input[0] || clip->n_output != 1 || !*clip->output[0])
        return oct_fail(err, OCT_E_PARSE, "Clip '%s' needs one input and one output", node_name);
    if (e->opset < 8)
        return oct_fail(err, OCT_E_UNSUPPORTED,
                        "Clip '%s': the model's opset %lld has no broadcasting Max/Min (needs 8)",
                        node_name, (long long)e->opset);
    long pos = node_pos(e, clip);
    if (pos < 0) return oct_fail(err, OCT_E_NOT_FOUND, "Clip '%s' is not in the graph", node_name);
    oct_pedit *pe = &e->pe;
    Onnx__TensorProto *lt = new_bound(e, node_name, "_lo", lo, channels);
    Onnx__TensorProto *ht = lt ? new_bound(e, node_name, "_hi", hi, channels) : NULL;
    char *mid = ht ? pe_unique(pe, node_name, "_max_out") : NULL;
    char *maxn = mid ? pe_unique(pe, node_name, "_max") : NULL;
    char *minn = maxn ? pe_unique(pe, node_name, "_min") : NULL;
    if (!minn) return nomem(err);
    const char *in1[2] = {clip->input[0], lt->name}, *out1[1] = {mid};
    const char *in2[2] = {mid, ht->name}, *out2[1] = {clip->output[0]};
    Onnx__NodeProto *mx = pe_node(pe, "Max", maxn, 2, in1, 1, out1);
    Onnx__NodeProto *mn = mx ? pe_node(pe, "Min", minn, 2, in2, 1, out2) : NULL;
    if (!mn || oct_pvec_push(&e->nodes, NULL)) return nomem(err);
    memmove(&e->nodes.v[pos + 2], &e->nodes.v[pos + 1],
            (e->nodes.n - 2 - (size_t)pos) * sizeof(void *));
    e->nodes.v[pos] = mx;
    e->nodes.v[pos + 1] = mn;
    for (size_t k = 1; k < clip->n_input; k++)
        if (*clip->input[k] && oct_pvec_push(&e->droppable, clip->input[k])) return nomem(err);
    if (oct_smap_put(&e->node_by_key, node_name, NULL) ||
        oct_smap_put(&e->node_by_key, mx->name, mx) ||
        oct_smap_put(&e->node_by_key, mn->name, mn) || oct_smap_put(&e->producer, mid, mx) ||
        oct_smap_put(&e->producer, mn->output[0], mn))
        return nomem(err);
    return OCT_OK;
}

/* ---- writing ---- */

static int has_subgraphs(const oct_model_edit *e) {
    for (size_t i = 0; i < e->nodes.n; i++) {
        const Onnx__NodeProto *np = e->nodes.v[i];
        for (size_t a = 0; a < np->n_attribute; a++)
            if (np->attribute[a]->g || np->attribute[a]->n_graphs) return 1;
    }
    return 0;
}

static int io_name(const Onnx__GraphProto *g, const char *name) {
    for (size_t i = 0; i < g->n_input; i++)
        if (!strcmp(g->input[i]->name, name)) return 1;
    for (size_t i = 0; i < g->n_output; i++)
        if (!strcmp(g->output[i]->name, name)) return 1;
    return 0;
}

/* Whether initializer t is a replaced Clip bound nothing reads any more.
 * A subgraph may read outer names, so with subgraphs nothing is dropped. */
static int unread(const oct_model_edit *e, const oct_smap *used, const Onnx__TensorProto *t) {
    if (!t->name) return 0;
    for (size_t i = 0; i < e->droppable.n; i++)
        if (!strcmp(e->droppable.v[i], t->name))
            return !oct_smap_get(used, t->name) && !io_name(e->mp->graph, t->name);
    return 0;
}

static oct_status sync_graph(oct_model_edit *e, oct_error *err) {
    oct_pedit *pe = &e->pe;
    Onnx__GraphProto *g = e->mp->graph;
    Onnx__TensorProto **inits = pe_alloc(pe, (e->inits.n + 1) * sizeof *inits);
    Onnx__NodeProto **nodes = pe_alloc(pe, (e->nodes.n + 1) * sizeof *nodes);
    if (!inits || !nodes) return nomem(err);
    for (size_t i = 0; i < e->nodes.n; i++)
        nodes[i] = e->nodes.v[i];
    oct_smap used = {NULL, NULL, 0, 0};
    int keep_all = !e->droppable.n || has_subgraphs(e);
    for (size_t i = 0; i < e->nodes.n && !keep_all; i++) {
        const Onnx__NodeProto *np = e->nodes.v[i];
        for (size_t k = 0; k < np->n_input; k++)
            if (*np->input[k] && oct_smap_put(&used, np->input[k], &used)) pe->nomem = 1;
    }
    size_t ni = 0;
    for (size_t i = 0; i < e->inits.n; i++)
        if (keep_all || !unread(e, &used, e->inits.v[i])) inits[ni++] = e->inits.v[i];
    oct_smap_free(&used);
    if (pe->nomem || PE_SET(pe, g->node, nodes) || PE_SET(pe, g->n_node, e->nodes.n) ||
        PE_SET(pe, g->initializer, inits) || PE_SET(pe, g->n_initializer, ni))
        return nomem(err);
    return OCT_OK;
}

oct_status oct_model_edit_write_memory(oct_model_edit *e, void **bytes, size_t *len,
                                       oct_error *err) {
    if (!e || !bytes || !len)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_model_edit_write_memory: NULL argument");
    *bytes = NULL;
    *len = 0;
    OCT_TRY(sync_graph(e, err));
    size_t n = onnx__model_proto__get_packed_size(e->mp);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return nomem(err);
    *len = onnx__model_proto__pack(e->mp, buf);
    *bytes = buf;
    return OCT_OK;
}

oct_status oct_model_edit_write(oct_model_edit *e, const char *path, oct_error *err) {
    if (!path) return oct_fail(err, OCT_E_INVALID_ARG, "oct_model_edit_write: NULL path");
    void *buf = NULL;
    size_t n = 0;
    OCT_TRY(oct_model_edit_write_memory(e, &buf, &n, err));
    oct_status st = OCT_OK;
    FILE *f = fopen(path, "wb");
    if (!f) {
        st = oct_fail(err, OCT_E_IO, "cannot create '%s': %s", path, strerror(errno));
    } else {
        int bad = fwrite(buf, 1, n, f) != n;
        if (fclose(f) != 0) bad = 1;
        if (bad) st = oct_fail(err, OCT_E_IO, "cannot write '%s': %s", path, strerror(errno));
    }
    free(buf);
    return st;
}
