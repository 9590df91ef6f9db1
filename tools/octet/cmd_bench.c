/* octet bench MODEL [--shape ...] [--threads N] [--iters N] [--warmup N] [--json]
 * Latency of whole runs on fixed inputs: median, p90, min, throughput, peak
 * resident memory and the activation arena. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "octet/quant.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Deterministic inputs in [0, 1) (images) or small integers. */
static void fill(oct_tensor_view *t, unsigned seed) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->dims[i];
    uint32_t s = seed * 2654435761u + 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        double u = (s >> 8) / 16777216.0;
        switch (t->dtype) {
        case OCT_FLOAT: ((float *)t->data)[i] = (float)u; break;
        case OCT_INT64: ((int64_t *)t->data)[i] = (int64_t)(u * 4); break;
        case OCT_INT32: ((int32_t *)t->data)[i] = (int32_t)(u * 4); break;
        case OCT_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)(u * 255); break;
        default: memset(t->data, 0, (size_t)n * oct_dtype_size(t->dtype)); return;
        }
    }
}

int cmd_bench(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    int iters = 20, warmup = 3;
    const char *precision = "fp32";
    const char *inputs[CLI_MAX_INPUTS];
    int n_inputs = 0;
    for (int i = 2; i < argc; i++) {
        int r = cli_parse_common(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(a, "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
        else if (!strcmp(a, "--precision") && i + 1 < argc) precision = argv[++i];
        else if ((!strcmp(a, "--input") || !strcmp(a, "-i")) && i + 1 < argc && n_inputs < CLI_MAX_INPUTS)
            inputs[n_inputs++] = argv[++i];
        else if (a[0] == '-' && a[1]) return cli_fail("bench: unknown option '%s' (or missing value)", a), 2;
        else if (!c.model_path) c.model_path = a;
        else return cli_fail("bench: unexpected argument '%s'", a), 2;
    }
    if (!c.model_path)
        return cli_fail("usage: octet bench MODEL [--shape NAME=DIMS] [--threads N] [--iters N] [--warmup N]\n"
                        "  [--precision fp32|bf16] [--plan PLAN.json [--simulate]] [--input FILE...] [--reference] [--json]"),
               2;
    if (iters < 1 || warmup < 0) return cli_fail("--iters must be >= 1 and --warmup >= 0"), 2;
    if (!strcmp(precision, "bf16"))
        return cli_fail("--precision bf16: not implemented yet (oneDNN 2.6 runs bf16 convolutions only on "
                        "AVX512-BF16/AMX CPUs); fp32 runs, and --plan runs a quantization plan (INT8 kernels, "
                        "or simulated with --simulate)"), 2;
    if (strcmp(precision, "fp32"))
        return cli_fail("--precision %s: fp32 is available; INT8 runs from a plan (--plan PLAN.json)", precision), 2;
    oct_error err = {0};
    oct_model *m = NULL;
    if (cli_load_model(&c, &m, &err)) return cli_error(&err);
    int rc = 1, nmi = oct_model_num_inputs(m);
    oct_session *s = NULL;
    oct_tensor_view in[CLI_MAX_INPUTS];
    memset(in, 0, sizeof in);
    double *t = calloc((size_t)iters, sizeof(double));
    if (!t) goto done;
    if (n_inputs && n_inputs != nmi) {
        cli_fail("the model has %d inputs, %d given", nmi, n_inputs);
        goto done;
    }
    for (int i = 0; i < n_inputs; i++) {
        const char *name;
        oct_model_input_info(m, i, &name, NULL, NULL, NULL, NULL);
        if (cli_read_input(&c, m, i, inputs[i], &in[i], NULL, &err)) {
            cli_error(&err);
            goto done;
        }
        cli_shape_from_data(&c, name, &in[i]);
    }
    oct_session_options o;
    cli_session_options(&c, &o);
    if (cli_session_create(&c, m, &o, &s, &err)) {
        cli_error(&err);
        goto done;
    }
    for (int i = 0; i < nmi; i++) {
        const char *name;
        oct_tensor_view shape;
        oct_session_input_info(s, i, &name, &shape, NULL);
        if (!n_inputs) {
            in[i] = shape;
            int64_t n = 1;
            for (int d = 0; d < shape.ndim; d++) n *= shape.dims[d];
            in[i].data = malloc((size_t)n * oct_dtype_size(shape.dtype) + 1);
            if (!in[i].data) goto done;
            fill(&in[i], (unsigned)i + 1);
        }
        if (oct_session_set_input(s, name, &in[i], &err)) {
            cli_error(&err);
            goto done;
        }
    }
    for (int w = 0; w < warmup; w++)
        if (oct_session_run(s, &err)) {
            cli_error(&err);
            goto done;
        }
    for (int it = 0; it < iters; it++) {
        double t0 = now_ms();
        if (oct_session_run(s, &err)) {
            cli_error(&err);
            goto done;
        }
        t[it] = now_ms() - t0;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_d);
    double med = iters % 2 ? t[iters / 2] : 0.5 * (t[iters / 2 - 1] + t[iters / 2]);
    double p90 = t[(int)ceil(0.9 * iters) - 1], mn = t[0];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss_mb = ru.ru_maxrss / 1024.0;
    double arena_mb = oct_session_arena_bytes(s) / 1048576.0;
    int threads = c.threads > 0 ? c.threads : oct_cpu_count();
    /* With a plan, what actually ran: real INT8 kernels (how many) or the
     * simulation. */
    char prec[96];
    if (c.plan_path && c.simulate)
        snprintf(prec, sizeof prec, "simulated (plan, fake-quantized fp32)");
    else if (c.plan_path)
        snprintf(prec, sizeof prec, "int8 (plan, %d int8 kernels)", oct_session_int8_kernels(s));
    else if (oct_session_int8_kernels(s))
        snprintf(prec, sizeof prec, "int8 (Q/DQ model, %d int8 kernels)", oct_session_int8_kernels(s));
    else
        snprintf(prec, sizeof prec, "%s", precision);
    precision = prec;
    if (c.json) {
        printf("{\"model\": \"%s\", \"precision\": \"%s\", \"threads\": %d, \"iters\": %d, \"warmup\": %d, "
               "\"median_ms\": %.3f, \"p90_ms\": %.3f, \"min_ms\": %.3f, \"throughput_per_s\": %.2f, "
               "\"peak_rss_mb\": %.1f, \"arena_mb\": %.2f, \"backend\": \"%s\"}\n",
               c.model_path, precision, threads, iters, warmup, med, p90, mn, 1000.0 / med, rss_mb, arena_mb,
               c.reference ? "reference" : "fast");
    } else {
        printf("model      %s\nprecision  %s\nthreads    %d\nbackend    %s\niters      %d (warmup %d)\n"
               "median     %.3f ms\np90        %.3f ms\nmin        %.3f ms\nthroughput %.2f runs/s\n"
               "peak RSS   %.1f MiB\narena      %.2f MiB\n",
               c.model_path, precision, threads, c.reference ? "reference" : "fast", iters, warmup, med, p90, mn,
               1000.0 / med, rss_mb, arena_mb);
    }
    rc = 0;
done:
    for (int i = 0; i < nmi && i < CLI_MAX_INPUTS; i++) free(in[i].data);
    free(t);
    oct_session_free(s);
    oct_model_free(m);
    return rc;
}
