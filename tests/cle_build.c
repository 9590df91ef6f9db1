/* See cle_build.h. Every piece of the model is one calloc'ed block listed
 * in the builder, freed after packing. */
#include "cle_build.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TB_MAX = 256, TB_ATTRS = 8 };

struct tb {
    Onnx__ModelProto m;
    Onnx__GraphProto g;
    Onnx__OperatorSetIdProto op;
    Onnx__OperatorSetIdProto *ops[1];
    Onnx__NodeProto *nodes[TB_MAX];
    Onnx__TensorProto *inits[TB_MAX];
    Onnx__ValueInfoProto *ins[8], *outs[8];
    void **blocks;
    size_t n_blocks, cap_blocks;
};

static void *tb_alloc(tb *b, size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "cle_build: out of memory\n");
        exit(2);
    }
    if (b->n_blocks == b->cap_blocks) {
        b->cap_blocks = b->cap_blocks ? 2 * b->cap_blocks : 256;
        b->blocks = realloc(b->blocks, b->cap_blocks * sizeof *b->blocks);
        if (!b->blocks) {
            fprintf(stderr, "cle_build: out of memory\n");
            exit(2);
        }
    }
    b->blocks[b->n_blocks++] = p;
    return p;
}

static char *tb_str(tb *b, const char *s) {
    char *d = tb_alloc(b, strlen(s) + 1);
    memcpy(d, s, strlen(s) + 1);
    return d;
}

static uint32_t rng = 2463534242u;
float tb_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (float)((rng >> 8) * (1.0 / 16777216.0));
}

tb *tb_new(int64_t opset) {
    tb *b = calloc(1, sizeof *b);
    if (!b) exit(2);
    onnx__model_proto__init(&b->m);
    onnx__graph_proto__init(&b->g);
    onnx__operator_set_id_proto__init(&b->op);
    b->op.domain = tb_str(b, "");
    b->op.has_version = 1;
    b->op.version = opset;
    b->ops[0] = &b->op;
    b->m.has_ir_version = 1;
    b->m.ir_version = 7;
    b->m.n_opset_import = 1;
    b->m.opset_import = b->ops;
    b->m.graph = &b->g;
    b->g.name = tb_str(b, "cle_test");
    b->g.node = b->nodes;
    b->g.initializer = b->inits;
    b->g.input = b->ins;
    b->g.output = b->outs;
    return b;
}

static Onnx__ValueInfoProto *value_info(tb *b, const char *name, int nd, const int64_t *dims) {
    Onnx__ValueInfoProto *vi = tb_alloc(b, sizeof *vi);
    Onnx__TypeProto *tp = tb_alloc(b, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = tb_alloc(b, sizeof *tt);
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = 1;
    if (nd >= 0) {
        Onnx__TensorShapeProto *sh = tb_alloc(b, sizeof *sh);
        onnx__tensor_shape_proto__init(sh);
        sh->dim = tb_alloc(b, (size_t)(nd + 1) * sizeof *sh->dim);
        sh->n_dim = (size_t)nd;
        for (int i = 0; i < nd; i++) {
            Onnx__TensorShapeProto__Dimension *d = tb_alloc(b, sizeof *d);
            onnx__tensor_shape_proto__dimension__init(d);
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
            sh->dim[i] = d;
        }
        tt->shape = sh;
    }
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = tb_str(b, name);
    vi->type = tp;
    return vi;
}

void tb_input(tb *b, const char *name, int nd, const int64_t *dims) {
    b->ins[b->g.n_input++] = value_info(b, name, nd, dims);
}

void tb_output(tb *b, const char *name) {
    b->outs[b->g.n_output++] = value_info(b, name, -1, NULL);
}

static Onnx__TensorProto *tensor(tb *b, const char *name, int nd, const int64_t *dims,
                                 const float *v, int float_data) {
    Onnx__TensorProto *t = tb_alloc(b, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = tb_str(b, name);
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->dims = tb_alloc(b, (size_t)(nd + 1) * sizeof *t->dims);
    t->n_dims = (size_t)nd;
    size_t n = 1;
    for (int i = 0; i < nd; i++) {
        t->dims[i] = dims[i];
        n *= (size_t)dims[i];
    }
    if (float_data) {
        t->float_data = tb_alloc(b, n * sizeof(float));
        memcpy(t->float_data, v, n * sizeof(float));
        t->n_float_data = n;
    } else {
        t->raw_data.data = tb_alloc(b, n * sizeof(float));
        memcpy(t->raw_data.data, v, n * sizeof(float)); /* the test machines are little-endian */
        t->raw_data.len = n * sizeof(float);
        t->has_raw_data = 1;
    }
    return t;
}

void tb_tensor(tb *b, const char *name, int nd, const int64_t *dims, const float *v,
               int float_data) {
    b->inits[b->g.n_initializer++] = tensor(b, name, nd, dims, v, float_data);
}

Onnx__NodeProto *tb_node(tb *b, const char *op, const char *name, int n_in, const char *const *in,
                         const char *out) {
    Onnx__NodeProto *n = tb_alloc(b, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = tb_str(b, op);
    n->name = tb_str(b, name);
    n->input = tb_alloc(b, (size_t)(n_in + 1) * sizeof(char *));
    n->n_input = (size_t)n_in;
    for (int i = 0; i < n_in; i++)
        n->input[i] = tb_str(b, in[i]);
    n->output = tb_alloc(b, sizeof(char *));
    n->output[0] = tb_str(b, out);
    n->n_output = 1;
    n->attribute = tb_alloc(b, TB_ATTRS * sizeof *n->attribute);
    b->nodes[b->g.n_node++] = n;
    return n;
}

static Onnx__AttributeProto *attr(tb *b, Onnx__NodeProto *n, const char *name, int type) {
    Onnx__AttributeProto *a = tb_alloc(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = tb_str(b, name);
    a->has_type = 1;
    a->type = (Onnx__AttributeProto__AttributeType)type;
    n->attribute[n->n_attribute++] = a;
    return a;
}

void tb_attr_int(tb *b, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void tb_attr_float(tb *b, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void tb_attr_ints(tb *b, Onnx__NodeProto *n, const char *name, int cnt, const int64_t *v) {
    Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->ints = tb_alloc(b, (size_t)cnt * sizeof *a->ints);
    memcpy(a->ints, v, (size_t)cnt * sizeof *a->ints);
    a->n_ints = (size_t)cnt;
}

void tb_constant(tb *b, const char *name, const char *out, int nd, const int64_t *dims,
                 const float *v) {
    Onnx__NodeProto *n = tb_node(b, "Constant", name, 0, NULL, out);
    Onnx__AttributeProto *a = attr(b, n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = tensor(b, out, nd, dims, v, 1);
}

void tb_conv(tb *b, const char *name, const char *in, const char *out, int cin, int cout, int k,
             int group, int bias) {
    int cpg = cin / group;
    size_t n = (size_t)cout * (size_t)cpg * (size_t)(k * k);
    float *w = malloc(n * sizeof *w), *bv = malloc((size_t)cout * sizeof *bv);
    float *colmag = malloc((size_t)cpg * sizeof *colmag);
    if (!w || !bv || !colmag) exit(2);
    for (int j = 0; j < cpg; j++)
        colmag[j] = expf(3.0f * (2.0f * tb_rand() - 1.0f));
    for (int o = 0; o < cout; o++) {
        float rowmag = expf(3.0f * (2.0f * tb_rand() - 1.0f));
        for (int j = 0; j < cpg; j++)
            for (int t = 0; t < k * k; t++)
                w[((size_t)o * (size_t)cpg + (size_t)j) * (size_t)(k * k) + (size_t)t] =
                    rowmag * colmag[j] * (2.0f * tb_rand() - 1.0f);
        bv[o] = rowmag * (2.0f * tb_rand() - 1.0f);
    }
    char wn[128], bn[128];
    snprintf(wn, sizeof wn, "%s_w", name);
    snprintf(bn, sizeof bn, "%s_b", name);
    int64_t wd[4] = {cout, cpg, k, k}, bd[1] = {cout};
    tb_tensor(b, wn, 4, wd, w, 0);
    if (bias) tb_tensor(b, bn, 1, bd, bv, 0);
    const char *ins[3] = {in, wn, bn};
    Onnx__NodeProto *c = tb_node(b, "Conv", name, bias ? 3 : 2, ins, out);
    int64_t ks[2] = {k, k}, pads[4] = {k / 2, k / 2, k / 2, k / 2};
    tb_attr_ints(b, c, "kernel_shape", 2, ks);
    tb_attr_ints(b, c, "pads", 4, pads);
    tb_attr_int(b, c, "group", group);
    free(w);
    free(bv);
    free(colmag);
}

unsigned char *tb_finish(tb *b, size_t *len) {
    size_t n = onnx__model_proto__get_packed_size(&b->m);
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) exit(2);
    *len = onnx__model_proto__pack(&b->m, buf);
    for (size_t i = 0; i < b->n_blocks; i++)
        free(b->blocks[i]);
    free(b->blocks);
    free(b);
    return buf;
}
