/* ONNX ModelProto -> oct_graph, through the protobuf-c parser generated from
 * Debian's onnx.proto at build time. Everything is copied out of the
 * protobuf message, which is freed before returning. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "onnx/onnx_import.h"
#include "ops/op.h"

static oct_status read_external(const Onnx__TensorProto *tp, const char *base_dir, oct_tensor *t,
                                size_t nbytes, oct_error *err) {
    const char *loc = NULL;
    long long off = 0, len = -1;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        if (!e->key || !e->value) continue;
        if (!strcmp(e->key, "location")) loc = e->value;
        else if (!strcmp(e->key, "offset")) off = atoll(e->value);
        else if (!strcmp(e->key, "length")) len = atoll(e->value);
    }
    const char *nm = tp->name ? tp->name : "";
    if (!base_dir)
        return oct_fail(err, OCT_E_UNSUPPORTED,
                        "tensor '%s' uses external data, which needs a model loaded from a file", nm);
    if (!loc || !*loc)
        return oct_fail(err, OCT_E_PARSE, "tensor '%s': external data without a location", nm);
    /* Paths are confined to the model's folder: no absolute paths, no '..'. */
    if (loc[0] == '/' || strstr(loc, "..") || strchr(loc, '\\'))
        return oct_fail(err, OCT_E_PARSE,
                        "tensor '%s': external data location '%s' leaves the model's folder", nm, loc);
    if (off < 0 || (len >= 0 && (size_t)len != nbytes))
        return oct_fail(err, OCT_E_PARSE, "tensor '%s': external data length %lld, expected %zu",
                        nm, len, nbytes);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", base_dir, loc);
    char real_base[PATH_MAX], real_path[PATH_MAX];
    if (!realpath(base_dir, real_base) || !realpath(path, real_path) ||
        strncmp(real_base, real_path, strlen(real_base)) != 0)
        return oct_fail(err, OCT_E_IO, "tensor '%s': external data file '%s' not found in '%s'", nm,
                        loc, base_dir);
    oct_mapped_file f;
    OCT_TRY(oct_map_file(real_path, &f, err));
    if ((size_t)off > f.size || f.size - (size_t)off < nbytes) {
        oct_unmap_file(&f);
        return oct_fail(err, OCT_E_PARSE, "tensor '%s': external file '%s' is too short", nm, loc);
    }
    memcpy(t->data, (const char *)f.data + off, nbytes);
    oct_unmap_file(&f);
    return OCT_OK;
}

static oct_status tensor_from_proto(const Onnx__TensorProto *tp, const char *base_dir,
                                    oct_tensor *t, oct_error *err) {
    const char *nm = tp->name ? tp->name : "";
    memset(t, 0, sizeof *t);
    if (tp->n_dims > OCT_MAX_DIMS)
        return oct_fail(err, OCT_E_UNSUPPORTED, "tensor '%s' has rank %zu (max %d)", nm, tp->n_dims,
                        OCT_MAX_DIMS);
    t->dtype = (oct_dtype)tp->data_type;
    t->ndim = (int)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0)
            return oct_fail(err, OCT_E_PARSE, "tensor '%s' has negative dimension", nm);
        t->dims[i] = tp->dims[i];
    }
    size_t es = oct_dtype_size(t->dtype);
    if (!es)
        return oct_fail(err, OCT_E_UNSUPPORTED, "tensor '%s' has data type %d, which octet does not support",
                        nm, (int)tp->data_type);
    /* Validate the stored size against the shape before allocating, so a
     * corrupt shape cannot ask for an absurd allocation. */
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->dims[i] && n > ((int64_t)1 << 40) / t->dims[i])
            return oct_fail(err, OCT_E_PARSE, "tensor '%s' has an impossible shape", nm);
        n *= t->dims[i];
    }
    size_t nbytes = (size_t)n * es;
    int external = tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    size_t have = 0;
    if (external) {
        have = (size_t)n;
    } else if (tp->has_raw_data) {
        if (tp->raw_data.len != nbytes)
            return oct_fail(err, OCT_E_PARSE, "tensor '%s': raw_data has %zu bytes, shape needs %zu", nm,
                            tp->raw_data.len, nbytes);
        have = (size_t)n;
    } else {
        switch (t->dtype) {
        case OCT_FLOAT: have = tp->n_float_data; break;
        case OCT_DOUBLE: have = tp->n_double_data; break;
        case OCT_INT64: have = tp->n_int64_data; break;
        case OCT_UINT32: case OCT_UINT64: have = tp->n_uint64_data; break;
        default: have = tp->n_int32_data; break;
        }
        if (have != (size_t)n)
            return oct_fail(err, OCT_E_PARSE, "tensor '%s': %zu values stored, shape needs %lld", nm, have,
                            (long long)n);
    }
    oct_status st = oct_tensor_alloc(t);
    if (st) return oct_fail(err, st, "tensor '%s': cannot allocate %zu bytes", nm, nbytes);
    if (external) return read_external(tp, base_dir, t, nbytes, err);
    if (tp->has_raw_data) {
        if (nbytes) memcpy(t->data, tp->raw_data.data, nbytes);
        return OCT_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case OCT_FLOAT: ((float *)t->data)[i] = tp->float_data[i]; break;
        case OCT_DOUBLE: ((double *)t->data)[i] = tp->double_data[i]; break;
        case OCT_INT64: ((int64_t *)t->data)[i] = tp->int64_data[i]; break;
        case OCT_UINT64: ((uint64_t *)t->data)[i] = tp->uint64_data[i]; break;
        case OCT_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)tp->uint64_data[i]; break;
        case OCT_INT32: ((int32_t *)t->data)[i] = tp->int32_data[i]; break;
        /* fp16/bf16 travel as their bit patterns in int32_data */
        case OCT_FLOAT16: case OCT_BFLOAT16: case OCT_UINT16:
            ((uint16_t *)t->data)[i] = (uint16_t)tp->int32_data[i];
            break;
        case OCT_INT16: ((int16_t *)t->data)[i] = (int16_t)tp->int32_data[i]; break;
        case OCT_INT8: ((int8_t *)t->data)[i] = (int8_t)tp->int32_data[i]; break;
        case OCT_UINT8: case OCT_BOOL: ((uint8_t *)t->data)[i] = (uint8_t)tp->int32_data[i]; break;
        default: break;
        }
    }
    return OCT_OK;
}

static char *dupbytes(const void *p, size_t n) {
    char *s = malloc(n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = 0;
    return s;
}

static oct_status attr_from_proto(const Onnx__AttributeProto *ap, oct_attr *a, oct_error *err) {
    memset(a, 0, sizeof *a);
    a->name = dupbytes(ap->name ? ap->name : "", ap->name ? strlen(ap->name) : 0);
    if (!a->name) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    int type = ap->has_type ? (int)ap->type : 0;
    if (!type) { /* IR < 2: infer from the populated field */
        if (ap->n_ints) type = OCT_ATTR_INTS;
        else if (ap->n_floats) type = OCT_ATTR_FLOATS;
        else if (ap->n_strings) type = OCT_ATTR_STRINGS;
        else if (ap->t) type = OCT_ATTR_TENSOR;
        else if (ap->g) type = OCT_ATTR_GRAPH;
        else if (ap->has_s) type = OCT_ATTR_STRING;
        else if (ap->has_f) type = OCT_ATTR_FLOAT;
        else type = OCT_ATTR_INT;
    }
    a->type = (oct_attr_type)type;
    switch (type) {
    case OCT_ATTR_FLOAT: a->f = ap->f; break;
    case OCT_ATTR_INT: a->i = ap->i; break;
    case OCT_ATTR_STRING:
        if (!(a->s = dupbytes(ap->s.data, ap->s.len))) return oct_fail(err, OCT_E_NOMEM, "out of memory");
        break;
    case OCT_ATTR_FLOATS:
        a->n = (int64_t)ap->n_floats;
        a->floats = malloc(sizeof(float) * (ap->n_floats + 1));
        if (!a->floats) return oct_fail(err, OCT_E_NOMEM, "out of memory");
        if (ap->n_floats) memcpy(a->floats, ap->floats, sizeof(float) * ap->n_floats);
        break;
    case OCT_ATTR_INTS:
        a->n = (int64_t)ap->n_ints;
        a->ints = malloc(sizeof(int64_t) * (ap->n_ints + 1));
        if (!a->ints) return oct_fail(err, OCT_E_NOMEM, "out of memory");
        if (ap->n_ints) memcpy(a->ints, ap->ints, sizeof(int64_t) * ap->n_ints);
        break;
    case OCT_ATTR_STRINGS:
        a->n = (int64_t)ap->n_strings;
        a->strings = calloc(ap->n_strings + 1, sizeof(char *));
        if (!a->strings) return oct_fail(err, OCT_E_NOMEM, "out of memory");
        for (size_t i = 0; i < ap->n_strings; i++)
            if (!(a->strings[i] = dupbytes(ap->strings[i].data, ap->strings[i].len)))
                return oct_fail(err, OCT_E_NOMEM, "out of memory");
        break;
    case OCT_ATTR_TENSOR:
        if (!ap->t) return oct_fail(err, OCT_E_PARSE, "attribute '%s' has no tensor", a->name);
        a->t = calloc(1, sizeof *a->t);
        if (!a->t) return oct_fail(err, OCT_E_NOMEM, "out of memory");
        OCT_TRY(tensor_from_proto(ap->t, NULL, a->t, err));
        break;
    default: /* graphs, sparse tensors, type protos: kept as a typed marker */
        break;
    }
    return OCT_OK;
}

static oct_status value_info(oct_graph *g, const Onnx__ValueInfoProto *vi, int *out, oct_error *err) {
    if (!vi->name || !*vi->name) return oct_fail(err, OCT_E_PARSE, "a graph input or output has no name");
    int v = oct_graph_value(g, vi->name);
    if (v < 0) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    *out = v;
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) return OCT_OK;
    oct_value *val = &g->values[v];
    if (val->is_const) return OCT_OK;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    val->t.dtype = tt->has_elem_type ? (oct_dtype)tt->elem_type : OCT_UNDEFINED;
    if (!tt->shape) return OCT_OK;
    if (tt->shape->n_dim > OCT_MAX_DIMS)
        return oct_fail(err, OCT_E_UNSUPPORTED, "'%s' has rank %zu (max %d)", vi->name, tt->shape->n_dim,
                        OCT_MAX_DIMS);
    val->t.ndim = (int)tt->shape->n_dim;
    int known = 1;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        val->t.dims[i] = -1;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value >= 0) {
            val->t.dims[i] = d->dim_value;
        } else {
            known = 0;
            if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param) {
                free(val->dim_names[i]);
                val->dim_names[i] = dupbytes(d->dim_param, strlen(d->dim_param));
            }
        }
    }
    val->shape_known = known;
    return OCT_OK;
}

static oct_status build_graph(const Onnx__ModelProto *mp, const char *base_dir, oct_graph *g,
                              oct_error *err) {
    const Onnx__GraphProto *gp = mp->graph;
    if (!gp) return oct_fail(err, OCT_E_PARSE, "the model has no graph");
    g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    int64_t ms_opset = 1;
    g->opset = 0;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        const char *d = o->domain ? o->domain : "";
        if (!*d || !strcmp(d, "ai.onnx")) g->opset = o->has_version ? o->version : 1;
        else if (!strcmp(d, "com.microsoft")) ms_opset = o->has_version ? o->version : 1;
    }
    if (!g->opset) g->opset = mp->n_opset_import ? 1 : 7; /* IR 1-2 models predate opset_import */

    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp->name || !*tp->name) return oct_fail(err, OCT_E_PARSE, "initializer %zu has no name", i);
        int v = oct_graph_value(g, tp->name);
        if (v < 0) return oct_fail(err, OCT_E_NOMEM, "out of memory");
        oct_value *val = &g->values[v];
        oct_tensor_release(&val->t);
        oct_status st = tensor_from_proto(tp, base_dir, &val->t, err);
        if (st) {
            oct_error_prefix(err, "initializer '%s': ", tp->name);
            return st;
        }
        val->is_const = 1;
        val->shape_known = 1;
    }
    if (gp->n_sparse_initializer)
        return oct_fail(err, OCT_E_UNSUPPORTED, "sparse initializers are not supported");
    g->inputs = malloc(sizeof(int) * (gp->n_input + 1));
    g->outputs = malloc(sizeof(int) * (gp->n_output + 1));
    if (!g->inputs || !g->outputs) return oct_fail(err, OCT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < gp->n_input; i++) {
        int v;
        OCT_TRY(value_info(g, gp->input[i], &v, err));
        if (g->values[v].is_const) continue; /* IR < 4 lists initializers as inputs */
        if (g->values[v].is_input)
            return oct_fail(err, OCT_E_PARSE, "graph input '%s' is listed twice", g->values[v].name);
        g->values[v].is_input = 1;
        g->inputs[g->n_inputs++] = v;
    }
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        int nin = (int)np->n_input, nout = (int)np->n_output;
        if (np->n_input > 4096 || np->n_output > 4096)
            return oct_fail(err, OCT_E_PARSE, "node %zu has too many inputs or outputs", i);
        int ins[4096], outs[4096];
        if (!np->op_type || !*np->op_type) return oct_fail(err, OCT_E_PARSE, "node %zu has no op_type", i);
        for (int k = 0; k < nin; k++) {
            ins[k] = -1;
            if (np->input[k] && *np->input[k] && (ins[k] = oct_graph_value(g, np->input[k])) < 0)
                return oct_fail(err, OCT_E_NOMEM, "out of memory");
        }
        for (int k = 0; k < nout; k++) {
            outs[k] = -1;
            if (np->output[k] && *np->output[k] && (outs[k] = oct_graph_value(g, np->output[k])) < 0)
                return oct_fail(err, OCT_E_NOMEM, "out of memory");
        }
        char nbuf[64];
        const char *name = np->name;
        if (!name || !*name) { /* exporters leave names empty; keep them unique */
            snprintf(nbuf, sizeof nbuf, "%s_%zu", np->op_type, i);
            name = nbuf;
        }
        int n = oct_graph_add_node(g, name, np->op_type, np->domain ? np->domain : "", nin, ins, nout, outs);
        if (n < 0) return oct_fail(err, OCT_E_NOMEM, "out of memory");
        oct_node *node = &g->nodes[n];
        const char *dom = node->domain;
        node->opset = (!*dom || !strcmp(dom, "ai.onnx")) ? g->opset : ms_opset;
        for (size_t k = 0; k < mp->n_opset_import; k++) {
            const Onnx__OperatorSetIdProto *o = mp->opset_import[k];
            if (*dom && o->domain && !strcmp(o->domain, dom) && o->has_version) node->opset = o->version;
        }
        node->def = oct_op_lookup(dom, np->op_type);
        if (np->n_attribute) {
            node->attrs = calloc(np->n_attribute, sizeof *node->attrs);
            if (!node->attrs) return oct_fail(err, OCT_E_NOMEM, "out of memory");
            node->n_attr = (int)np->n_attribute;
            for (size_t a = 0; a < np->n_attribute; a++) {
                oct_status st = attr_from_proto(np->attribute[a], &node->attrs[a], err);
                if (st) {
                    oct_error_prefix(err, "node '%s' (%s): ", name, np->op_type);
                    return st;
                }
            }
        }
    }
    for (size_t i = 0; i < gp->n_output; i++) {
        int v;
        OCT_TRY(value_info(g, gp->output[i], &v, err));
        g->values[v].is_output = 1;
        g->outputs[g->n_outputs++] = v;
    }
    if (g->n_outputs == 0) return oct_fail(err, OCT_E_PARSE, "the graph has no outputs");
    oct_graph_link(g);
    return OCT_OK;
}

oct_status oct_onnx_import(const void *data, size_t size, const char *base_dir, oct_graph **out,
                           oct_error *err) {
    *out = NULL;
    if (!data || !size) return oct_fail(err, OCT_E_PARSE, "the model file is empty");
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, data);
    if (!mp) return oct_fail(err, OCT_E_PARSE, "not a valid ONNX model (protobuf parsing failed)");
    oct_graph *g = oct_graph_new();
    oct_status st = g ? build_graph(mp, base_dir, g, err) : oct_fail(err, OCT_E_NOMEM, "out of memory");
    onnx__model_proto__free_unpacked(mp, NULL);
    if (st) {
        oct_graph_free(g);
        return st;
    }
    *out = g;
    return OCT_OK;
}

oct_status oct_onnx_parse_tensor(const void *data, size_t size, oct_tensor *out, char **name,
                                 oct_error *err) {
    memset(out, 0, sizeof *out);
    if (name) *name = NULL;
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, data);
    if (!tp) return oct_fail(err, OCT_E_PARSE, "not a valid ONNX TensorProto");
    oct_status st = tensor_from_proto(tp, NULL, out, err);
    if (!st && name && tp->name) *name = dupbytes(tp->name, strlen(tp->name));
    onnx__tensor_proto__free_unpacked(tp, NULL);
    if (st) oct_tensor_release(out);
    return st;
}
