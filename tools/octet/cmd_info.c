/* octet info MODEL [--shape ...] [--json] */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void print_dims(FILE *f, int ndim, const int64_t *dims, const oct_model *m, int input, int json) {
    fputc('[', f);
    for (int i = 0; i < ndim; i++) {
        const char *sym = input >= 0 ? oct_model_input_dim_name(m, input, i) : "";
        if (i) fputs(json ? ", " : "x", f);
        if (dims[i] >= 0) fprintf(f, "%lld", (long long)dims[i]);
        else if (json) fprintf(f, "\"%s\"", *sym ? sym : "?");
        else fprintf(f, "%s", *sym ? sym : "?");
    }
    fputc(']', f);
}

int cmd_info(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    for (int i = 2; i < argc; i++) {
        int r = cli_parse_common(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (argv[i][0] == '-' && argv[i][1]) return cli_fail("info: unknown option '%s'", argv[i]), 2;
        if (c.model_path) return cli_fail("info: more than one model given"), 2;
        c.model_path = argv[i];
    }
    if (!c.model_path) return cli_fail("usage: octet info MODEL [--shape NAME=DIMS] [--json]"), 2;
    oct_error err = {0};
    oct_model *m = NULL;
    if (cli_load_model(&c, &m, &err)) return cli_error(&err);
    oct_model_summary s;
    oct_error serr = {0};
    oct_status sst = oct_model_summarize(m, c.n_shapes, c.shapes, &s, &serr);
    FILE *o = stdout;
    if (c.json) {
        fprintf(o, "{\n  \"model\": \"%s\",\n  \"sha256\": \"%s\",\n  \"opset\": %lld,\n  \"inputs\": [", c.model_path,
                oct_model_sha256(m), (long long)oct_model_opset(m));
    } else {
        fprintf(o, "model   %s\nsha256  %s\nopset   %lld\ninputs\n", c.model_path, oct_model_sha256(m),
                (long long)oct_model_opset(m));
    }
    for (int i = 0; i < oct_model_num_inputs(m); i++) {
        const char *name;
        oct_dtype dt;
        int nd;
        int64_t dims[OCT_MAX_DIMS];
        oct_model_input_info(m, i, &name, &dt, &nd, dims, NULL);
        if (c.json) {
            fprintf(o, "%s\n    {\"name\": \"%s\", \"dtype\": \"%s\", \"shape\": ", i ? "," : "", name, oct_dtype_name(dt));
            print_dims(o, nd, dims, m, i, 1);
            fputc('}', o);
        } else {
            fprintf(o, "  %-24s %-8s ", name, oct_dtype_name(dt));
            print_dims(o, nd, dims, m, i, 0);
            fputc('\n', o);
        }
    }
    fprintf(o, c.json ? "\n  ],\n  \"outputs\": [" : "outputs\n");
    for (int i = 0; i < oct_model_num_outputs(m); i++) {
        const char *name;
        oct_dtype dt;
        int nd;
        int64_t dims[OCT_MAX_DIMS];
        oct_model_output_info(m, i, &name, &dt, &nd, dims, NULL);
        if (c.json) {
            fprintf(o, "%s\n    {\"name\": \"%s\", \"dtype\": \"%s\", \"shape\": ", i ? "," : "", name, oct_dtype_name(dt));
            print_dims(o, nd, dims, m, -1, 1);
            fputc('}', o);
        } else {
            fprintf(o, "  %-24s %-8s ", name, oct_dtype_name(dt));
            print_dims(o, nd, dims, m, -1, 0);
            fputc('\n', o);
        }
    }
    if (c.json) {
        fprintf(o, "\n  ],\n  \"nodes\": %d,\n  \"nodes_optimized\": %d,\n  \"parameters\": %lld,\n  \"flops\": %.0f,\n",
                s.n_nodes_original, sst ? -1 : s.n_nodes, (long long)s.n_params, sst ? 0.0 : s.flops);
        fprintf(o, "  \"shape_inference\": \"%s\",\n  \"ops\": {", sst ? serr.message : "ok");
        for (int i = 0; i < s.n_ops; i++)
            fprintf(o, "%s\"%s\": %d", i ? ", " : "", s.ops[i].op_type, s.ops[i].count);
        fprintf(o, "},\n  \"unsupported\": [");
        int k = 0;
        for (int i = 0; i < s.n_ops; i++)
            if (!s.ops[i].supported) fprintf(o, "%s\"%s\"", k++ ? ", " : "", s.ops[i].op_type);
        fprintf(o, "]\n}\n");
    } else {
        fprintf(o, "nodes   %d in the file", s.n_nodes_original);
        if (!sst) fprintf(o, ", %d after folding and fusion", s.n_nodes);
        fprintf(o, "\nparams  %lld (%.2f M)\n", (long long)s.n_params, s.n_params / 1e6);
        if (!sst) fprintf(o, "flops   %.3f G (multiply-add = 2)\n", s.flops / 1e9);
        else fprintf(o, "flops   unknown: %s\n", serr.message);
        fprintf(o, "ops     ");
        for (int i = 0; i < s.n_ops; i++)
            fprintf(o, "%s%s %d%s", i ? ", " : "", s.ops[i].op_type, s.ops[i].count, s.ops[i].supported ? "" : " (unsupported)");
        fprintf(o, "\nunsupported ops: ");
        int k = 0;
        for (int i = 0; i < s.n_ops; i++)
            if (!s.ops[i].supported) fprintf(o, "%s%s", k++ ? ", " : "", s.ops[i].op_type);
        fprintf(o, "%s\n", k ? "" : "none");
    }
    oct_model_summary_free(&s);
    oct_model_free(m);
    return 0;
}
