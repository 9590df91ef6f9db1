/* octet export MODEL --plan PLAN.json [--qdq OUT.onnx] [--trt-cache FILE]
 *   [--trt-version N] [--trt-algorithm NAME] [--trtexec-flags]
 * octet import-cache MODEL --trt-cache FILE -o PLAN.json */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "octet/quant.h"

int cmd_export(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    const char *qdq = NULL, *cache = NULL, *algo = NULL;
    long long version = 0;
    int flags = 0;
    for (int i = 2; i < argc; i++) {
        int r = cli_parse_common(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--qdq") && i + 1 < argc) qdq = argv[++i];
        else if (!strcmp(a, "--trt-cache") && i + 1 < argc) cache = argv[++i];
        else if (!strcmp(a, "--trt-version") && i + 1 < argc) version = atoll(argv[++i]);
        else if (!strcmp(a, "--trt-algorithm") && i + 1 < argc) algo = argv[++i];
        else if (!strcmp(a, "--trtexec-flags")) flags = 1;
        else if (a[0] == '-' && a[1]) return cli_fail("export: unknown option '%s' (or missing value)", a), 2;
        else if (!c.model_path) c.model_path = a;
        else return cli_fail("export: unexpected argument '%s'", a), 2;
    }
    if (!c.model_path || !c.plan_path || (!qdq && !cache && !flags))
        return cli_fail("usage: octet export MODEL --plan PLAN.json [--qdq OUT.onnx] [--trt-cache FILE]\n"
                        "  [--trt-version 8601] [--trt-algorithm EntropyCalibration2] [--trtexec-flags]\n"
                        "  [--shape NAME=DIMS]"),
               2;
    if (version < 0) return cli_fail("--trt-version must be positive (e.g. 8601 for 8.6.1, 100700 for 10.7)"), 2;
    oct_error err = {0};
    oct_model *m = NULL;
    oct_plan *p = NULL;
    int rc = 1;
    if (cli_load_model(&c, &m, &err)) return cli_error(&err);
    if (oct_plan_load(c.plan_path, &p, &err) || oct_plan_check(p, m, &err)) {
        cli_error(&err);
        goto done;
    }
    if (cache) {
        if (oct_export_trt_cache(p, cache, version, algo, &err)) {
            cli_error(&err);
            goto done;
        }
        printf("wrote TensorRT calibration cache %s (TRT-%lld-%s)\n", cache, version ? version : 8601LL,
               algo ? algo : "EntropyCalibration2");
    }
    if (flags) {
        char *s = NULL;
        if (oct_export_trtexec_flags(p, &s, &err)) {
            cli_error(&err);
            goto done;
        }
        printf("%s%s\n", s, cache ? "" : " --calib=CACHE");
        free(s);
    }
    if (qdq) {
        oct_session_options o;
        cli_session_options(&c, &o);
        if (oct_export_qdq_onnx(m, p, &o, qdq, &err)) {
            cli_error(&err);
            goto done;
        }
        printf("wrote Q/DQ ONNX model %s\n", qdq);
    }
    rc = 0;
done:
    oct_plan_free(p);
    oct_model_free(m);
    return rc;
}

int cmd_import_cache(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    const char *cache = NULL, *out = NULL;
    for (int i = 2; i < argc; i++) {
        int r = cli_parse_common(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--trt-cache") && i + 1 < argc) cache = argv[++i];
        else if (!strcmp(a, "-o") && i + 1 < argc) out = argv[++i];
        else if (a[0] == '-' && a[1]) return cli_fail("import-cache: unknown option '%s' (or missing value)", a), 2;
        else if (!c.model_path) c.model_path = a;
        else return cli_fail("import-cache: unexpected argument '%s'", a), 2;
    }
    if (!c.model_path || !cache || !out)
        return cli_fail("usage: octet import-cache MODEL --trt-cache FILE -o PLAN.json"), 2;
    oct_error err = {0};
    oct_model *m = NULL;
    oct_plan *p = NULL;
    if (cli_load_model(&c, &m, &err)) return cli_error(&err);
    int rc = 1;
    if (oct_import_trt_cache(m, cache, &p, &err) || oct_plan_save(p, out, &err)) {
        cli_error(&err);
    } else {
        int tc[4], nc[4];
        oct_plan_counts(p, tc, nc);
        printf("wrote %s: %d int8 tensors from %s\n", out, tc[1], cache);
        rc = 0;
    }
    oct_plan_free(p);
    oct_model_free(m);
    return rc;
}
