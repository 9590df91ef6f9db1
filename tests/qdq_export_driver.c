/* Test driver for the Q/DQ exporter: builds a plan in memory from a small
 * rules file (or loads a plan JSON) and calls oct_export_qdq.
 *
 *   qdq_export_driver MODEL OUT.onnx [--rules FILE | --plan PLAN.json]
 *                     [--shape NAME=DxDx...]... [--per-tensor]
 *
 * Rules file, one entry a line ('#' starts a comment; names contain no
 * whitespace):
 *   tensor NAME SCALE             symmetric int8 tensor
 *   tensor NAME SCALE ZERO_POINT  asymmetric uint8 tensor
 *   node NAME                     int8 node (its weights are quantized)
 *   weights per_tensor|per_channel
 *   weight_bits N                 the plan's weight_bits (not checked here:
 *                                 the exporter must refuse a bad one)
 * No rules and no plan: an empty plan (only the opset upgrade happens).
 * Exit status 0 on success, 1 with the error on stderr otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx_export.h"
#include "quant/plan.h"

static int read_rules(const char *path, oct_plan *p) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open rules file '%s'\n", path);
        return -1;
    }
    char line[4096];
    int lineno = 0, bad = 0;
    while (!bad && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char kind[32], name[2048];
        double scale = 0;
        int zp = 0;
        int n = sscanf(line, "%31s %2047s %lf %d", kind, name, &scale, &zp);
        if (n <= 0) continue;
        if (!strcmp(kind, "tensor") && n >= 3) {
            int i = oct_plan_add_tensor(p, name);
            if (i < 0) bad = 1;
            else {
                oct_plan_tensor *t = &p->tensors[i];
                t->precision = OCT_PREC_INT8;
                t->scale = (float)scale;
                t->amax = n == 3 ? scale * 127.0 : 0;
                t->is_unsigned = n == 4;
                t->zero_point = n == 4 ? zp : 0;
            }
        } else if (!strcmp(kind, "node") && n == 2) {
            int i = oct_plan_add_node(p, name, NULL);
            if (i < 0) bad = 1;
            else p->nodes[i].precision = OCT_PREC_INT8;
        } else if (!strcmp(kind, "weights") && n == 2 &&
                   (!strcmp(name, "per_tensor") || !strcmp(name, "per_channel"))) {
            p->weights = !strcmp(name, "per_tensor") ? OCT_WEIGHTS_PER_TENSOR : OCT_WEIGHTS_PER_CHANNEL;
        } else if (!strcmp(kind, "weight_bits") && n == 2) {
            p->weight_bits = atoi(name);
        } else {
            bad = 1;
        }
        if (bad) fprintf(stderr, "%s:%d: cannot read this line\n", path, lineno);
    }
    fclose(f);
    return bad ? -1 : 0;
}

static int parse_shape(char *arg, oct_input_shape *s) {
    char *eq = strrchr(arg, '=');
    if (!eq) return -1;
    *eq = 0;
    s->name = arg;
    s->ndim = 0;
    for (char *p = eq + 1; *p;) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || s->ndim == OCT_MAX_DIMS) return -1;
        s->dims[s->ndim++] = d;
        p = *end == 'x' ? end + 1 : end;
        if (*end && *end != 'x') return -1;
    }
    return s->ndim ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL OUT.onnx [--rules FILE | --plan PLAN.json] [--shape NAME=DIMS]... "
                        "[--per-tensor]\n", argv[0]);
        return 2;
    }
    oct_input_shape shapes[8];
    int n_shapes = 0, per_tensor = 0;
    const char *rules = NULL, *plan_path = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--rules") && i + 1 < argc) rules = argv[++i];
        else if (!strcmp(argv[i], "--plan") && i + 1 < argc) plan_path = argv[++i];
        else if (!strcmp(argv[i], "--per-tensor")) per_tensor = 1;
        else if (!strcmp(argv[i], "--shape") && i + 1 < argc && n_shapes < 8) {
            if (parse_shape(argv[++i], &shapes[n_shapes++])) {
                fprintf(stderr, "bad --shape (NAME=DxDx...)\n");
                return 2;
            }
        } else {
            fprintf(stderr, "unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    oct_error err;
    memset(&err, 0, sizeof err);
    oct_plan *p = NULL;
    if (plan_path) {
        if (oct_plan_load(plan_path, &p, &err)) {
            fprintf(stderr, "error: %s\n", err.message);
            return 1;
        }
    } else {
        p = oct_plan_new();
        if (!p) return 1;
        if (rules && read_rules(rules, p)) {
            oct_plan_free(p);
            return 1;
        }
    }
    if (per_tensor) p->weights = OCT_WEIGHTS_PER_TENSOR;
    oct_status st = oct_export_qdq(argv[1], p, n_shapes, shapes, argv[2], &err);
    oct_plan_free(p);
    if (st) {
        fprintf(stderr, "error: %s\n", err.message);
        return 1;
    }
    printf("exported %s\n", argv[2]);
    return 0;
}
