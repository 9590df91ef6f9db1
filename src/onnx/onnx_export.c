/* Q/DQ ONNX export (see onnx_export.h and docs/qdq-export.md). The model is
 * unpacked with protobuf-c, edited in place through proto_edit (every edit
 * is undone before free_unpacked) and packed to the output file. */
#include "onnx/onnx_export.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "onnx/onnx_import.h"
#include "onnx/export_internal.h"
#include "runtime/runtime.h"

oct_status oct_qx_nomem(oct_qx *x) { return oct_fail(x->err, OCT_E_NOMEM, "out of memory"); }

oct_qx_tensor *oct_qx_find(oct_qx *x, const char *name, int create) {
    if (!name || !*name) return NULL;
    oct_qx_tensor *t = oct_smap_get(&x->tensors, name);
    if (t || !create) return t;
    t = pe_alloc(&x->pe, sizeof *t);
    if (!t || oct_smap_put(&x->tensors, name, t)) {
        x->pe.nomem = 1;
        return NULL;
    }
    t->name = name;
    t->plan = -1;
    return t;
}

const Onnx__TensorProto *oct_qx_constant(oct_qx *x, const char *name) {
    oct_qx_tensor *t = oct_qx_find(x, name, 0);
    if (!t) return NULL;
    const Onnx__TensorProto *tp = t->init;
    if (!tp && t->producer && !strcmp(t->producer->op_type, "Constant") &&
        (!t->producer->domain || !*t->producer->domain)) {
        const Onnx__AttributeProto *a = pe_attr_find(t->producer, "value");
        tp = a ? a->t : NULL;
    }
    if (!tp || !tp->has_data_type || tp->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) return NULL;
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) return NULL;
    return tp;
}

Onnx__TensorProto *oct_qx_push_init(oct_qx *x, Onnx__TensorProto *t) {
    if (!t || oct_pvec_push(&x->inits, t)) {
        x->pe.nomem = 1;
        return NULL;
    }
    return t;
}

int64_t oct_qx_attr_int(const Onnx__NodeProto *n, const char *name, int64_t def) {
    const Onnx__AttributeProto *a = pe_attr_find(n, name);
    return a ? a->i : def;
}

/* Indexes names, node keys and tensors of the original graph. */
static oct_status index_graph(oct_qx *x, oct_smap *keys) {
    Onnx__GraphProto *g = x->mp->graph;
    oct_pedit *pe = &x->pe;
    for (size_t i = 0; i < g->n_initializer; i++) {
        Onnx__TensorProto *tp = g->initializer[i];
        if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
            return oct_fail(x->err, OCT_E_UNSUPPORTED,
                            "initializer '%s' uses external data, which the Q/DQ export does not handle",
                            tp->name ? tp->name : "");
        oct_qx_tensor *t = oct_qx_find(x, tp->name, 1);
        if (t) t->init = tp;
        pe_name_add(pe, tp->name);
    }
    for (size_t i = 0; i < g->n_input; i++) {
        oct_qx_tensor *t = oct_qx_find(x, g->input[i]->name, 1);
        if (t && !t->init) t->is_input = 1;
        pe_name_add(pe, g->input[i]->name);
    }
    for (size_t i = 0; i < g->n_value_info; i++) pe_name_add(pe, g->value_info[i]->name);
    for (size_t i = 0; i < g->n_node; i++) {
        Onnx__NodeProto *np = g->node[i];
        if (!np->op_type || !*np->op_type)
            return oct_fail(x->err, OCT_E_PARSE, "node %zu has no op_type", i);
        const char *key = np->name;
        if (!key || !*key) key = pe_printf(pe, "%s_%zu", np->op_type, i); /* as the importer names it */
        if (!key || oct_xlist_push(&x->nodes, np, key, 0) || oct_smap_put(keys, key, np)) return oct_qx_nomem(x);
        pe_name_add(pe, key);
        for (size_t k = 0; k < np->n_input; k++) pe_name_add(pe, np->input[k]);
        for (size_t k = 0; k < np->n_output; k++) {
            oct_qx_tensor *t = oct_qx_find(x, np->output[k], 1);
            if (t && !t->producer) {
                t->producer = np;
                t->out_index = k;
            }
            pe_name_add(pe, np->output[k]);
        }
    }
    for (size_t i = 0; i < g->n_output; i++) {
        oct_qx_tensor *t = oct_qx_find(x, g->output[i]->name, 1);
        if (t) t->is_output = 1;
        pe_name_add(pe, g->output[i]->name);
    }
    return pe->nomem ? oct_qx_nomem(x) : OCT_OK;
}

/* Every plan entry must name something in this model, and every int8 entry
 * must carry usable quantization parameters. */
static oct_status check_plan(oct_qx *x, const oct_smap *keys) {
    const oct_plan *p = x->plan;
    if (!oct_weight_bits_valid(oct_plan_weight_bits(p)))
        return oct_fail(x->err, OCT_E_INVALID_ARG, "the plan's weight_bits is %d; expected 4, 6, 7 or 8",
                        p->weight_bits);
    for (int i = 0; i < p->n_nodes; i++)
        if (!oct_smap_get(keys, p->nodes[i].name))
            return oct_fail(x->err, OCT_E_NOT_FOUND, "the plan's node '%s' is not a node of the model",
                            p->nodes[i].name);
    for (int i = 0; i < p->n_tensors; i++) {
        const oct_plan_tensor *pt = &p->tensors[i];
        oct_qx_tensor *t = oct_qx_find(x, pt->name, 0);
        if (!t || (!t->init && !t->producer && !t->is_input))
            return oct_fail(x->err, OCT_E_NOT_FOUND, "the plan's tensor '%s' is not a tensor of the model",
                            pt->name);
        if (pt->precision != OCT_PREC_INT8) continue;
        if (!(pt->scale > 0) || !isnormal(pt->scale))
            return oct_fail(x->err, OCT_E_INVALID_ARG, "plan tensor '%s': int8 needs a positive normal scale, "
                            "not %g", pt->name, (double)pt->scale);
        if (pt->is_unsigned ? (pt->zero_point < 0 || pt->zero_point > 255) : pt->zero_point != 0)
            return oct_fail(x->err, OCT_E_INVALID_ARG, "plan tensor '%s': zero point %d is out of range for %s",
                            pt->name, (int)pt->zero_point, pt->is_unsigned ? "uint8" : "symmetric int8");
        /* Constants are not produced by a node at run time: the simulation
         * quantizes weights through their consumer, so an initializer listed
         * as an int8 tensor gets no Q/DQ of its own. */
        if (t->init) continue;
        if (x->shapes) {
            int v = oct_graph_find(x->shapes, pt->name);
            oct_dtype dt = v >= 0 ? x->shapes->values[v].t.dtype : OCT_UNDEFINED;
            if (dt != OCT_UNDEFINED && dt != OCT_FLOAT)
                return oct_fail(x->err, OCT_E_UNSUPPORTED,
                                "plan tensor '%s' is %s; only float32 tensors can be quantized", pt->name,
                                oct_dtype_name(dt));
        }
        if (t->is_input && t->is_output)
            return oct_fail(x->err, OCT_E_UNSUPPORTED,
                            "plan tensor '%s' is both a graph input and a graph output; it cannot be quantized "
                            "in place", pt->name);
        t->plan = i;
    }
    return OCT_OK;
}

/* ---- activations ---- */

/* QuantizeLinear -> DequantizeLinear for t, appended to `to` (NULL: the
 * head). A graph output keeps its name on the DequantizeLinear output and
 * its producer writes a renamed tensor instead. */
static oct_status qdq(oct_qx *x, oct_qx_tensor *t, oct_xlist *to) {
    oct_pedit *pe = &x->pe;
    const oct_plan_tensor *pt = &x->plan->tensors[t->plan];
    const char *src = t->name, *dst;
    if (t->is_output) {
        char *renamed = pe_unique(pe, t->name, "_QuantizeLinear_Input");
        if (!renamed || PE_SET(pe, t->producer->output[t->out_index], renamed)) return oct_qx_nomem(x);
        src = renamed;
        dst = t->name;
    } else {
        dst = t->repl = pe_unique(pe, t->name, "_DequantizeLinear_Output");
    }
    char *qo = pe_unique(pe, t->name, "_QuantizeLinear_Output");
    char *sn = pe_unique(pe, t->name, "_scale");
    char *zn = pe_unique(pe, t->name, "_zero_point");
    char *qname = pe_unique(pe, t->name, "_QuantizeLinear");
    char *dname = pe_unique(pe, t->name, "_DequantizeLinear");
    if (!dst || !qo || !sn || !zn || !qname || !dname) return oct_qx_nomem(x);
    float s = pt->scale;
    uint8_t zp = (uint8_t)(pt->is_unsigned ? pt->zero_point : 0);
    if (!oct_qx_push_init(x, pe_tensor(pe, sn, OCT_FLOAT, 0, NULL, &s, sizeof s)) ||
        !oct_qx_push_init(x, pe_tensor(pe, zn, pt->is_unsigned ? OCT_UINT8 : OCT_INT8, 0, NULL, &zp, 1)))
        return oct_qx_nomem(x);
    const char *qin[3] = {src, sn, zn}, *qout[1] = {qo};
    const char *din[3] = {qo, sn, zn}, *dout[1] = {dst};
    Onnx__NodeProto *q = pe_node(pe, "QuantizeLinear", qname, 3, qin, 1, qout);
    Onnx__NodeProto *d = pe_node(pe, "DequantizeLinear", dname, 3, din, 1, dout);
    if (!q || !d) return oct_qx_nomem(x);
    if (to ? oct_xlist_push(to, q, NULL, 1) || oct_xlist_push(to, d, NULL, 1)
           : oct_pvec_push(&x->head, q) || oct_pvec_push(&x->head, d))
        return oct_qx_nomem(x);
    return OCT_OK;
}

static oct_status activations(oct_qx *x) {
    Onnx__GraphProto *g = x->mp->graph;
    for (size_t i = 0; i < g->n_input; i++) {
        oct_qx_tensor *t = oct_qx_find(x, g->input[i]->name, 0);
        if (t && t->is_input && t->plan >= 0) OCT_TRY(qdq(x, t, NULL));
    }
    /* the upgrade may have moved outputs to new nodes (Softmax wrapping) */
    for (size_t i = 0; i < x->nodes.n; i++) {
        Onnx__NodeProto *np = x->nodes.v[i].np;
        for (size_t k = 0; k < np->n_output; k++) {
            oct_qx_tensor *t = oct_qx_find(x, np->output[k], 1);
            if (t) {
                t->producer = np;
                t->out_index = k;
            }
        }
    }
    if (x->pe.nomem) return oct_qx_nomem(x);
    oct_xlist body = {NULL, 0, 0};
    oct_status st = OCT_OK;
    for (size_t i = 0; i < x->nodes.n && !st; i++) {
        oct_xnode *xn = &x->nodes.v[i];
        if (oct_xlist_push(&body, xn->np, xn->key, xn->qdq)) st = oct_qx_nomem(x);
        for (size_t k = 0; k < xn->np->n_output && !st; k++) {
            oct_qx_tensor *t = oct_qx_find(x, xn->np->output[k], 0);
            if (t && t->plan >= 0 && t->producer == xn->np && !t->repl) st = qdq(x, t, &body);
        }
    }
    if (st) {
        oct_xlist_free(&body);
        return st;
    }
    oct_xlist_free(&x->nodes);
    x->nodes = body;
    /* every other reader takes the dequantized tensor */
    for (size_t i = 0; i < x->nodes.n; i++) {
        Onnx__NodeProto *np = x->nodes.v[i].np;
        if (x->nodes.v[i].qdq) continue;
        for (size_t k = 0; k < np->n_input; k++) {
            oct_qx_tensor *t = oct_qx_find(x, np->input[k], 0);
            if (t && t->repl && PE_SET(&x->pe, np->input[k], t->repl)) return oct_qx_nomem(x);
        }
    }
    return OCT_OK;
}

/* ---- assembly ---- */

static int has_subgraphs(const Onnx__GraphProto *g) {
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t a = 0; a < g->node[i]->n_attribute; a++)
            if (g->node[i]->attribute[a]->g || g->node[i]->attribute[a]->n_graphs) return 1;
    return 0;
}

/* Float weights whose every reader now takes the int8 copy are dropped
 * (initializer, graph input entry, or Constant node). */
static int dropped(oct_qx *x, const oct_smap *used, const char *name) {
    oct_qx_tensor *t = oct_qx_find(x, name, 0);
    return t && t->replaced && !t->is_output && !oct_smap_get(used, name);
}

static oct_status assemble(oct_qx *x) {
    oct_pedit *pe = &x->pe;
    Onnx__GraphProto *g = x->mp->graph;
    oct_smap used = {NULL, NULL, 0, 0};
    int keep_all = has_subgraphs(g); /* subgraphs may read outer names */
    for (size_t i = 0; i < x->nodes.n && !pe->nomem; i++)
        for (size_t k = 0; k < x->nodes.v[i].np->n_input; k++)
            if (*x->nodes.v[i].np->input[k] && oct_smap_put(&used, x->nodes.v[i].np->input[k], &used))
                pe->nomem = 1;
    size_t nn = x->head.n + x->nodes.n, ni = g->n_initializer + x->inits.n;
    Onnx__NodeProto **nodes = pe_alloc(pe, (nn + 1) * sizeof *nodes);
    Onnx__TensorProto **inits = pe_alloc(pe, (ni + 1) * sizeof *inits);
    Onnx__ValueInfoProto **inputs = pe_alloc(pe, (g->n_input + 1) * sizeof *inputs);
    if (!nodes || !inits || !inputs || pe->nomem) {
        oct_smap_free(&used);
        return oct_qx_nomem(x);
    }
    size_t a = 0, b = 0, c = 0;
    for (size_t i = 0; i < x->head.n; i++) nodes[a++] = x->head.v[i];
    for (size_t i = 0; i < x->nodes.n; i++) {
        Onnx__NodeProto *np = x->nodes.v[i].np;
        if (!keep_all && !strcmp(np->op_type, "Constant") && np->n_output == 1 && dropped(x, &used, np->output[0]))
            continue;
        nodes[a++] = np;
    }
    for (size_t i = 0; i < g->n_initializer; i++)
        if (keep_all || !dropped(x, &used, g->initializer[i]->name)) inits[b++] = g->initializer[i];
    for (size_t i = 0; i < x->inits.n; i++) inits[b++] = x->inits.v[i];
    for (size_t i = 0; i < g->n_input; i++)
        if (keep_all || !dropped(x, &used, g->input[i]->name)) inputs[c++] = g->input[i];
    oct_smap_free(&used);
    if (PE_SET(pe, g->node, nodes) || PE_SET(pe, g->n_node, a) || PE_SET(pe, g->initializer, inits) ||
        PE_SET(pe, g->n_initializer, b) || PE_SET(pe, g->input, inputs) || PE_SET(pe, g->n_input, c))
        return oct_qx_nomem(x);
    return OCT_OK;
}

static oct_status write_model(oct_qx *x, const char *path) {
    size_t n = onnx__model_proto__get_packed_size(x->mp);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return oct_qx_nomem(x);
    size_t got = onnx__model_proto__pack(x->mp, buf);
    oct_status st = OCT_OK;
    FILE *f = fopen(path, "wb");
    if (!f) {
        st = oct_fail(x->err, OCT_E_IO, "cannot create '%s': %s", path, strerror(errno));
    } else {
        int bad = fwrite(buf, 1, got, f) != got;
        if (fclose(f) != 0) bad = 1;
        if (bad) st = oct_fail(x->err, OCT_E_IO, "cannot write '%s': %s", path, strerror(errno));
    }
    free(buf);
    return st;
}

/* Shapes and element types, when octet can infer them. */
static oct_status load_shapes(oct_qx *x, const char *path, int n_shapes, const oct_input_shape *shapes,
                              oct_model **model) {
    oct_error e;
    memset(&e, 0, sizeof e);
    oct_status st = oct_model_load_file(path, model, &e);
    if (!st) {
        oct_session_options o;
        oct_session_options_init(&o);
        o.n_shapes = n_shapes;
        o.shapes = shapes;
        st = oct_session_prepare_graph(*model, &o, 1, &x->shapes, &e);
    }
    if (st && n_shapes > 0) { /* shapes were asked for: they must apply */
        *x->err = e;
        return st;
    }
    x->shapes = st ? NULL : x->shapes;
    return OCT_OK;
}

oct_status oct_export_qdq(const char *model_path, const oct_plan *plan, int n_shapes,
                          const oct_input_shape *shapes, const char *out_path, oct_error *err) {
    oct_error local;
    if (!err) err = &local;
    if (!model_path || !plan || !out_path || n_shapes < 0 || (n_shapes && !shapes))
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_export_qdq: invalid argument");
    oct_mapped_file f;
    OCT_TRY(oct_map_file(model_path, &f, err));
    oct_qx x;
    memset(&x, 0, sizeof x);
    pe_init(&x.pe);
    x.plan = plan;
    x.err = err;
    oct_model *model = NULL;
    oct_smap keys = {NULL, NULL, 0, 0};
    oct_status st = OCT_OK;
    x.mp = f.size ? onnx__model_proto__unpack(NULL, f.size, f.data) : NULL;
    if (!x.mp || !x.mp->graph)
        st = oct_fail(err, OCT_E_PARSE, "'%s' is not a valid ONNX model", model_path);
    if (!st) st = load_shapes(&x, model_path, n_shapes, shapes, &model);
    if (!st) st = index_graph(&x, &keys);
    if (!st) st = check_plan(&x, &keys);
    if (!st) st = oct_opset_upgrade13(&x.pe, x.mp, &x.nodes, &x.inits, x.shapes, err);
    if (!st) st = oct_qx_fold_bn(&x);
    if (!st) st = oct_qx_weights(&x);
    if (!st) st = activations(&x);
    if (!st) st = assemble(&x);
    if (!st && x.pe.nomem) st = oct_qx_nomem(&x);
    if (!st) st = write_model(&x, out_path);
    pe_finish(&x.pe);
    if (x.mp) onnx__model_proto__free_unpacked(x.mp, NULL);
    oct_unmap_file(&f);
    oct_smap_free(&keys);
    oct_smap_free(&x.tensors);
    oct_xlist_free(&x.nodes);
    oct_pvec_free(&x.head);
    oct_pvec_free(&x.inits);
    free(x.wc);
    oct_graph_free(x.shapes);
    oct_model_free(model);
    return st;
}
