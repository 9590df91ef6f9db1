/* Default-domain opset 7..12 -> 13, for the Q/DQ exporter (per-channel
 * DequantizeLinear needs opset 13). Only the operators whose meaning or
 * signature changed between the model's opset and 13 are touched:
 *   Split, Squeeze, Unsqueeze, ReduceSum   attribute -> input (13)
 *   Softmax, LogSoftmax, Hardmax           2-D coercion at `axis` (< 13)
 *   Clip (< 11), Pad (< 11)                attributes -> inputs
 *   Slice (< 10), TopK (< 10)              attributes -> inputs
 *   Dropout (< 12)                         `ratio` attribute dropped
 *   BatchNormalization (< 9)               `spatial` attribute dropped
 *   Scatter (< 11)                         renamed ScatterElements
 * Everything else in the default domain kept its meaning (later versions
 * only added types or optional attributes with the old default). Upsample,
 * Resize before 11, the experimental ops removed in 10 and nodes carrying
 * subgraphs are refused by name. */
#include "onnx/opset_upgrade.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"

int oct_xlist_push(oct_xlist *l, Onnx__NodeProto *np, const char *key, int qdq) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        oct_xnode *v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].np = np;
    l->v[l->n].key = key;
    l->v[l->n].qdq = qdq;
    l->n++;
    return 0;
}

void oct_xlist_free(oct_xlist *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int default_domain(const char *d) { return !d || !*d || !strcmp(d, "ai.onnx"); }

int64_t oct_model_proto_opset(const Onnx__ModelProto *mp) {
    int64_t v = 1;
    for (size_t i = 0; i < mp->n_opset_import; i++)
        if (default_domain(mp->opset_import[i]->domain))
            v = mp->opset_import[i]->has_version ? mp->opset_import[i]->version : 1;
    return v;
}

typedef struct upgrade {
    oct_pedit *pe;
    oct_xlist out;
    oct_pvec *inits;
    const oct_graph *shapes;
    const Onnx__ModelProto *mp;
    const oct_xlist *in;
    int64_t from;
    oct_error *err;
} upgrade;

static oct_status nomem(upgrade *u) { return oct_fail(u->err, OCT_E_NOMEM, "out of memory"); }

static const char *key_of(const oct_xnode *x) { return x->key ? x->key : x->np->op_type; }

static oct_status fail_node(upgrade *u, const oct_xnode *x, const char *why) {
    return oct_fail(u->err, OCT_E_UNSUPPORTED,
                    "opset upgrade %lld -> 13: node '%s' (%s): %s", (long long)u->from, key_of(x),
                    x->np->op_type, why);
}

static const oct_value *shape_of(const upgrade *u, const char *name) {
    if (!u->shapes || !name) return NULL;
    int v = oct_graph_find(u->shapes, name);
    return v < 0 ? NULL : &u->shapes->values[v];
}

/* Element type of a tensor, float32 when the shape pass did not reach it
 * (the ops converted here with typed scalars only take float types). */
static int elem_type(const upgrade *u, const char *name) {
    const oct_value *v = shape_of(u, name);
    return v && v->t.dtype != OCT_UNDEFINED ? (int)v->t.dtype : OCT_FLOAT;
}

/* A new initializer; returns its (unique) name. */
static char *add_init(upgrade *u, const oct_xnode *x, const char *suffix, int32_t type, int ndim,
                      const int64_t *dims, const void *raw, size_t nbytes) {
    char *name = pe_unique(u->pe, key_of(x), suffix);
    Onnx__TensorProto *t = name ? pe_tensor(u->pe, name, type, ndim, dims, raw, nbytes) : NULL;
    if (!t || oct_pvec_push(u->inits, t)) {
        u->pe->nomem = 1;
        return NULL;
    }
    return name;
}

/* A float scalar in the element type of `like` (float, double or half). */
static char *add_scalar(upgrade *u, const oct_xnode *x, const char *suffix, const char *like, double v) {
    int t = elem_type(u, like);
    if (t == OCT_DOUBLE) return add_init(u, x, suffix, t, 0, NULL, &v, sizeof v);
    if (t == OCT_FLOAT16) {
        uint16_t h = oct_f32_to_f16((float)v);
        return add_init(u, x, suffix, t, 0, NULL, &h, sizeof h);
    }
    float f = (float)v;
    return add_init(u, x, suffix, OCT_FLOAT, 0, NULL, &f, sizeof f);
}

/* Puts `name` at input slot idx (absent slots in between become ""). */
static int set_input(upgrade *u, Onnx__NodeProto *n, size_t idx, char *name) {
    size_t cnt = n->n_input > idx + 1 ? n->n_input : idx + 1;
    char **arr = pe_alloc(u->pe, (cnt + 1) * sizeof *arr);
    if (!arr) return -1;
    for (size_t i = 0; i < cnt; i++) arr[i] = i < n->n_input ? n->input[i] : NULL;
    arr[idx] = name;
    return pe_set_inputs(u->pe, n, cnt, arr);
}

/* ints attribute -> 1-D int64 input at slot idx; absent attribute: no-op. */
static oct_status ints_to_input(upgrade *u, const oct_xnode *x, const char *attr, size_t idx) {
    const Onnx__AttributeProto *a = pe_attr_find(x->np, attr);
    if (!a) return OCT_OK;
    int64_t dim = (int64_t)a->n_ints;
    char *suffix = pe_printf(u->pe, "_%s", attr);
    char *name = suffix ? add_init(u, x, suffix, OCT_INT64, 1, &dim, a->ints, a->n_ints * sizeof(int64_t)) : NULL;
    if (!name || set_input(u, x->np, idx, name) || pe_attr_remove(u->pe, x->np, attr)) return nomem(u);
    return OCT_OK;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t def) {
    const Onnx__AttributeProto *a = pe_attr_find(n, name);
    return a ? a->i : def;
}

static int keep(upgrade *u, const oct_xnode *x) {
    return oct_xlist_push(&u->out, x->np, x->key, x->qdq);
}

/* Softmax family before 13: the input is viewed as 2-D [prod(d[0:axis]),
 * prod(d[axis:])] and normalised along the second dimension. From 13 it is
 * one axis. The two agree when axis is the last one; otherwise the node is
 * wrapped: Flatten(axis) -> op(axis=1) -> Reshape to Shape(input). */
static oct_status softmax(upgrade *u, const oct_xnode *x) {
    Onnx__NodeProto *n = x->np;
    if (n->n_input < 1 || n->n_output < 1) return fail_node(u, x, "expected one input and one output");
    int64_t axis = attr_int(n, "axis", 1);
    const oct_value *v = shape_of(u, n->input[0]);
    int rank = v && v->shape_known ? v->t.ndim : -1;
    if (axis == -1 || (rank > 0 && axis == rank - 1)) {
        if (pe_attr_set_int(u->pe, n, "axis", axis) || keep(u, x)) return nomem(u);
        return OCT_OK;
    }
    const char *base = key_of(x);
    char *flat = pe_unique(u->pe, n->input[0], "_flat2d");
    char *y2d = pe_unique(u->pe, n->output[0], "_2d");
    char *shp = pe_unique(u->pe, n->input[0], "_shape");
    char *fname = pe_unique(u->pe, base, "_Flatten");
    char *sname = pe_unique(u->pe, base, "_Shape");
    char *rname = pe_unique(u->pe, base, "_Reshape");
    if (!flat || !y2d || !shp || !fname || !sname || !rname) return nomem(u);
    const char *fin[1] = {n->input[0]}, *fout[1] = {flat};
    const char *sout[1] = {shp};
    const char *rin[2] = {y2d, shp}, *rout[1] = {n->output[0]};
    Onnx__NodeProto *fl = pe_node(u->pe, "Flatten", fname, 1, fin, 1, fout);
    Onnx__NodeProto *sh = pe_node(u->pe, "Shape", sname, 1, fin, 1, sout);
    Onnx__NodeProto *rs = pe_node(u->pe, "Reshape", rname, 2, rin, 1, rout);
    if (!fl || !sh || !rs || pe_attr_add(u->pe, fl, pe_attr_int(u->pe, "axis", axis))) return nomem(u);
    char **outs = pe_alloc(u->pe, 2 * sizeof *outs);
    if (!outs || set_input(u, n, 0, flat) || pe_attr_set_int(u->pe, n, "axis", 1)) return nomem(u);
    outs[0] = y2d;
    if (PE_SET(u->pe, n->output, outs) || PE_SET(u->pe, n->n_output, 1)) return nomem(u);
    if (oct_xlist_push(&u->out, fl, NULL, 0) || oct_xlist_push(&u->out, sh, NULL, 0) || keep(u, x) ||
        oct_xlist_push(&u->out, rs, NULL, 0))
        return nomem(u);
    return OCT_OK;
}

/* Clip before 11: min/max attributes (defaults: the float range). */
static oct_status clip(upgrade *u, const oct_xnode *x) {
    Onnx__NodeProto *n = x->np;
    const Onnx__AttributeProto *mn = pe_attr_find(n, "min"), *mx = pe_attr_find(n, "max");
    if (n->n_input < 1) return fail_node(u, x, "no input");
    if (mn) {
        char *name = add_scalar(u, x, "_min", n->input[0], mn->f);
        if (!name || set_input(u, n, 1, name)) return nomem(u);
    }
    if (mx) {
        char *name = add_scalar(u, x, "_max", n->input[0], mx->f);
        if (!name || set_input(u, n, 2, name)) return nomem(u);
    }
    if (pe_attr_remove(u->pe, n, "min") || pe_attr_remove(u->pe, n, "max")) return nomem(u);
    return OCT_OK;
}

/* Pad before 11: pads and value attributes; mode stays an attribute. */
static oct_status pad(upgrade *u, const oct_xnode *x) {
    Onnx__NodeProto *n = x->np;
    if (!pe_attr_find(n, "pads")) return fail_node(u, x, "no 'pads' attribute");
    OCT_TRY(ints_to_input(u, x, "pads", 1));
    const Onnx__AttributeProto *val = pe_attr_find(n, "value");
    if (val) {
        char *name = add_scalar(u, x, "_value", n->input[0], val->f);
        if (!name || set_input(u, n, 2, name) || pe_attr_remove(u->pe, n, "value")) return nomem(u);
    }
    return OCT_OK;
}

/* TopK before 10: k attribute -> 1-D int64 input of one element. */
static oct_status topk(upgrade *u, const oct_xnode *x) {
    const Onnx__AttributeProto *a = pe_attr_find(x->np, "k");
    if (!a) return fail_node(u, x, "no 'k' attribute");
    int64_t one = 1, k = a->i;
    char *name = add_init(u, x, "_k", OCT_INT64, 1, &one, &k, sizeof k);
    if (!name || set_input(u, x->np, 1, name) || pe_attr_remove(u->pe, x->np, "k")) return nomem(u);
    return OCT_OK;
}

static int used_later(const upgrade *u, const char *name) {
    const Onnx__GraphProto *g = u->mp->graph;
    for (size_t i = 0; i < g->n_output; i++)
        if (g->output[i]->name && !strcmp(g->output[i]->name, name)) return 1;
    for (size_t i = 0; i < u->in->n; i++)
        for (size_t k = 0; k < u->in->v[i].np->n_input; k++)
            if (!strcmp(u->in->v[i].np->input[k], name)) return 1;
    return 0;
}

/* Dropout before 12: ratio was an attribute; at inference the node is the
 * identity whatever the ratio, so the attribute is dropped. Before 10 the
 * mask had the input's type (bool from 10). */
static oct_status dropout(upgrade *u, const oct_xnode *x) {
    Onnx__NodeProto *n = x->np;
    if (u->from < 10 && n->n_output > 1 && *n->output[1]) {
        if (used_later(u, n->output[1])) return fail_node(u, x, "its mask output (typed like the input before "
                                                                "opset 10, bool after) is used");
        if (PE_SET(u->pe, n->n_output, 1)) return nomem(u);
    }
    if (pe_attr_remove(u->pe, n, "ratio") || pe_attr_remove(u->pe, n, "is_test")) return nomem(u);
    return OCT_OK;
}

static const char *const removed_ops[] = {"Upsample", "ImageScaler", "Crop", "Affine", "ScaledTanh",
                                          "ParametricSoftplus", "GivenTensorFill", "GRUUnit", "Scale",
                                          "DynamicSlice", NULL};

static oct_status upgrade_node(upgrade *u, const oct_xnode *x) {
    Onnx__NodeProto *n = x->np;
    const char *op = n->op_type;
    if (!default_domain(n->domain)) return keep(u, x) ? nomem(u) : OCT_OK;
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->g || n->attribute[i]->n_graphs)
            return fail_node(u, x, "nodes with subgraphs are not upgraded");
    for (int i = 0; removed_ops[i]; i++)
        if (!strcmp(op, removed_ops[i]))
            return fail_node(u, x, "this op was removed from ONNX by opset 13 and has no conversion here");
    if (!strcmp(op, "Softmax") || !strcmp(op, "LogSoftmax") || !strcmp(op, "Hardmax")) return softmax(u, x);
    oct_status st = OCT_OK;
    if (!strcmp(op, "Split")) {
        st = ints_to_input(u, x, "split", 1);
    } else if (!strcmp(op, "Squeeze") || !strcmp(op, "Unsqueeze") || !strcmp(op, "ReduceSum")) {
        st = ints_to_input(u, x, "axes", 1);
    } else if (!strcmp(op, "Clip") && u->from < 11) {
        st = clip(u, x);
    } else if (!strcmp(op, "Pad") && u->from < 11) {
        st = pad(u, x);
    } else if (!strcmp(op, "Slice") && u->from < 10) {
        if (!pe_attr_find(n, "starts") || !pe_attr_find(n, "ends"))
            return fail_node(u, x, "no 'starts'/'ends' attributes");
        st = ints_to_input(u, x, "starts", 1);
        if (!st) st = ints_to_input(u, x, "ends", 2);
        if (!st) st = ints_to_input(u, x, "axes", 3);
    } else if (!strcmp(op, "TopK") && u->from < 10) {
        st = topk(u, x);
    } else if (!strcmp(op, "Resize") && u->from < 11) {
        return fail_node(u, x, "Resize-10's coordinate mapping has no conversion here");
    } else if (!strcmp(op, "Dropout") && u->from < 12) {
        st = dropout(u, x);
    } else if (!strcmp(op, "BatchNormalization") && u->from < 9) {
        if (attr_int(n, "spatial", 1) != 1) return fail_node(u, x, "spatial=0 has no opset-9+ equivalent");
        if (pe_attr_remove(u->pe, n, "spatial")) return nomem(u);
    } else if (!strcmp(op, "Scatter") && u->from < 11) {
        char *s = pe_strdup(u->pe, "ScatterElements");
        if (!s || PE_SET(u->pe, n->op_type, s)) return nomem(u);
    }
    if (st) return st;
    return keep(u, x) ? nomem(u) : OCT_OK;
}

oct_status oct_opset_upgrade13(oct_pedit *pe, Onnx__ModelProto *mp, oct_xlist *nodes, oct_pvec *inits,
                               const oct_graph *shapes, oct_error *err) {
    int64_t from = oct_model_proto_opset(mp);
    if (from >= 13) return OCT_OK;
    if (from < 7)
        return oct_fail(err, OCT_E_UNSUPPORTED,
                        "the model's default-domain opset is %lld; upgrading below opset 7 (old broadcasting "
                        "rules) to 13 is not supported",
                        (long long)from);
    upgrade u = {pe, {NULL, 0, 0}, inits, shapes, mp, nodes, from, err};
    oct_status st = OCT_OK;
    for (size_t i = 0; i < nodes->n && !st; i++) st = upgrade_node(&u, &nodes->v[i]);
    if (!st && pe->nomem) st = nomem(&u);
    if (st) {
        oct_xlist_free(&u.out);
        return st;
    }
    for (size_t i = 0; i < mp->n_opset_import && !st; i++) {
        Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (default_domain(o->domain) && (PE_SET(pe, o->version, 13) || PE_SET(pe, o->has_version, 1)))
            st = nomem(&u);
    }
    if (!st && (!mp->has_ir_version || mp->ir_version < 7) &&
        (PE_SET(pe, mp->ir_version, 7) || PE_SET(pe, mp->has_ir_version, 1)))
        st = nomem(&u);
    if (st) {
        oct_xlist_free(&u.out);
        return st;
    }
    oct_xlist_free(nodes);
    *nodes = u.out;
    return OCT_OK;
}
