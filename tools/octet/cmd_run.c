/* octet run MODEL --input FILE... [-o OUT.npy] [--outputs-dir DIR] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double get(const oct_tensor_view *t, int64_t i) {
    switch (t->dtype) {
    case OCT_FLOAT: return ((const float *)t->data)[i];
    case OCT_DOUBLE: return ((const double *)t->data)[i];
    case OCT_INT64: return (double)((const int64_t *)t->data)[i];
    case OCT_INT32: return ((const int32_t *)t->data)[i];
    case OCT_INT8: return ((const int8_t *)t->data)[i];
    case OCT_UINT8: case OCT_BOOL: return ((const uint8_t *)t->data)[i];
    default: return NAN;
    }
}

static void summarize(FILE *o, const char *name, const oct_tensor_view *t, int json, int first) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->dims[i];
    double mn = INFINITY, mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = get(t, i);
        mn = fmin(mn, v);
        mx = fmax(mx, v);
        sum += v;
    }
    char shape[128] = "";
    size_t k = 0;
    for (int i = 0; i < t->ndim; i++)
        k += (size_t)snprintf(shape + k, sizeof shape - k, i ? "x%lld" : "%lld", (long long)t->dims[i]);
    if (json) {
        fprintf(o, "%s\n    {\"name\": \"%s\", \"dtype\": \"%s\", \"shape\": \"%s\", \"min\": %.6g, \"max\": %.6g, \"mean\": %.6g}",
                first ? "" : ",", name, oct_dtype_name(t->dtype), shape, n ? mn : 0, n ? mx : 0, n ? sum / n : 0);
        return;
    }
    fprintf(o, "output %s: %s %s  min %.6g  max %.6g  mean %.6g\n", name, oct_dtype_name(t->dtype), shape,
            n ? mn : 0, n ? mx : 0, n ? sum / n : 0);
    /* A short look at what the numbers mean for the common output layouts. */
    if (t->dtype == OCT_FLOAT && t->ndim == 3 && t->dims[0] == 1 && t->dims[2] == 6) {
        const float *d = t->data;
        int shown = 0, count = 0;
        for (int64_t r = 0; r < t->dims[1]; r++)
            if (d[r * 6 + 4] >= 0.25f) count++;
        fprintf(o, "  %d boxes with score >= 0.25 (x1 y1 x2 y2 score class):\n", count);
        for (int64_t r = 0; r < t->dims[1] && shown < 10; r++)
            if (d[r * 6 + 4] >= 0.25f) {
                fprintf(o, "    %7.1f %7.1f %7.1f %7.1f  %.3f  %d\n", d[r * 6], d[r * 6 + 1], d[r * 6 + 2],
                        d[r * 6 + 3], d[r * 6 + 4], (int)d[r * 6 + 5]);
                shown++;
            }
    } else if (t->dtype == OCT_FLOAT && t->ndim == 2 && t->dims[0] == 1 && t->dims[1] > 1) {
        const float *d = t->data;
        int64_t best[5] = {-1, -1, -1, -1, -1};
        for (int64_t i = 0; i < t->dims[1]; i++)
            for (int j = 0; j < 5; j++)
                if (best[j] < 0 || d[i] > d[best[j]]) {
                    memmove(best + j + 1, best + j, sizeof(int64_t) * (size_t)(4 - j));
                    best[j] = i;
                    break;
                }
        fprintf(o, "  top classes:");
        for (int j = 0; j < 5 && best[j] >= 0; j++) fprintf(o, " %lld (%.4g)", (long long)best[j], d[best[j]]);
        fprintf(o, "\n");
    }
}

int cmd_run(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    const char *inputs[CLI_MAX_INPUTS];
    int n_inputs = 0, repeat = 1;
    const char *out_path = NULL, *out_dir = NULL;
    for (int i = 2; i < argc; i++) {
        int r = cli_parse_common(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        if ((!strcmp(a, "--input") || !strcmp(a, "-i")) && i + 1 < argc) {
            if (n_inputs >= CLI_MAX_INPUTS) return cli_fail("too many inputs"), 2;
            inputs[n_inputs++] = argv[++i];
        } else if (!strcmp(a, "-o") && i + 1 < argc) {
            out_path = argv[++i];
        } else if (!strcmp(a, "--outputs-dir") && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (!strcmp(a, "--repeat") && i + 1 < argc) {
            repeat = atoi(argv[++i]);
            if (repeat < 1) return cli_fail("--repeat must be >= 1"), 2;
        } else if (a[0] == '-' && a[1]) {
            return cli_fail("run: unknown option '%s' (or missing value)", a), 2;
        } else if (!c.model_path) {
            c.model_path = a;
        } else {
            return cli_fail("run: unexpected argument '%s'", a), 2;
        }
    }
    if (!c.model_path || !n_inputs)
        return cli_fail("usage: octet run MODEL --input FILE [--input FILE...] [-o OUT.npy] [--outputs-dir DIR]\n"
                        "  [--shape NAME=DIMS] [--preset yolo|imagenet|ppocr|ppocr-rec|ppocr-cls] [--size WxH]\n"
                        "  [--letterbox|--resize|--crop N] [--pad V] [--scale S] [--mean a,b,c] [--std a,b,c]\n"
                        "  [--bgr] [--nhwc] [--plan PLAN.json [--simulate]] [--threads N] [--reference] [--json] [-v]"),
               2;
    oct_error err = {0};
    oct_model *m = NULL;
    if (cli_load_model(&c, &m, &err)) return cli_error(&err);
    int rc = 1;
    oct_session *s = NULL;
    oct_tensor_view in[CLI_MAX_INPUTS];
    memset(in, 0, sizeof in);
    const char *names[CLI_MAX_INPUTS];
    int nmi = oct_model_num_inputs(m);
    if (n_inputs != nmi) {
        cli_fail("the model has %d input%s, %d given", nmi, nmi == 1 ? "" : "s", n_inputs);
        goto done;
    }
    for (int i = 0; i < n_inputs; i++) {
        oct_model_input_info(m, i, &names[i], NULL, NULL, NULL, NULL);
        if (cli_read_input(&c, m, i, inputs[i], &in[i], NULL, &err)) {
            cli_error(&err);
            goto done;
        }
        /* The data fixes any dynamic dimension not given by --shape. */
        cli_shape_from_data(&c, names[i], &in[i]);
    }
    oct_session_options o;
    cli_session_options(&c, &o);
    if (cli_session_create(&c, m, &o, &s, &err)) {
        cli_error(&err);
        goto done;
    }
    for (int i = 0; i < n_inputs; i++)
        if (oct_session_set_input(s, names[i], &in[i], &err)) {
            cli_error(&err);
            goto done;
        }
    double best = 1e300;
    for (int r = 0; r < repeat; r++) {
        double t0 = now_ms();
        if (oct_session_run(s, &err)) {
            cli_error(&err);
            goto done;
        }
        double dt = now_ms() - t0;
        if (dt < best) best = dt;
    }
    FILE *f = stdout;
    if (c.json) fprintf(f, "{\n  \"model\": \"%s\",\n  \"ms\": %.3f,\n  \"outputs\": [", c.model_path, best);
    for (int k = 0; k < oct_session_num_outputs(s); k++) {
        oct_tensor_view t;
        if (oct_session_get_output(s, k, &t, &err)) {
            cli_error(&err);
            goto done;
        }
        const char *oname = oct_session_output_name(s, k);
        summarize(f, oname, &t, c.json, k == 0);
        if (out_path && k == 0 && oct_tensor_write_npy(out_path, &t, &err)) {
            cli_error(&err);
            goto done;
        }
        if (out_dir) {
            char p[4096], safe[512];
            snprintf(safe, sizeof safe, "%s", oname);
            for (char *q = safe; *q; q++)
                if (*q == '/' || *q == '\\') *q = '_';
            snprintf(p, sizeof p, "%s/%s.npy", out_dir, safe);
            if (oct_tensor_write_npy(p, &t, &err)) {
                cli_error(&err);
                goto done;
            }
        }
    }
    if (c.json) fprintf(f, "\n  ]\n}\n");
    else fprintf(f, "run time %.1f ms%s\n", best, repeat > 1 ? " (best of --repeat)" : "");
    rc = 0;
done:
    for (int i = 0; i < n_inputs; i++) oct_free(in[i].data);
    oct_session_free(s);
    oct_model_free(m);
    return rc;
}
