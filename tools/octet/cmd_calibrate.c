/* octet calibrate MODEL --data DIR [--count N] [--shuffle SEED] [--method M]
 *   [--scheme all|compute] [--asymmetric] [--per-tensor-weights]
 *   [--weight-bits 4|6|7|8] [--streaming] [preprocessing flags] [--shape ...]
 *   [--threads N] [--quiet] -o PLAN.json */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "dataset.h"
#include "ptq_args.h"
#include "octet/quant.h"

typedef struct {
    cli_sample_ctx sc; /* first: the sample callback's context */
    cli_progress prog;
} calib_ctx;

static void progress(void *user, int pass, int passes, int done, int total) {
    calib_ctx *cc = user;
    char what[64];
    snprintf(what, sizeof what, "calibrating (pass %d/%d)", pass, passes);
    cc->prog.what = what;
    cli_progress_update(&cc->prog, done + (pass - 1) * total, total * passes);
    cc->prog.what = "calibrating";
}

int cmd_calibrate(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    oct_calib_options co;
    oct_calib_options_init(&co);
    const char *data = NULL, *out = NULL;
    int count = 0, quiet = 0;
    long seed = -1;
    cli_ptq pq;
    cli_ptq_init(&pq);
    for (int i = 2; i < argc; i++) {
        int r = cli_parse_common(&c, argc, argv, &i);
        if (!r) r = cli_ptq_parse(&pq, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(a, "--count") && i + 1 < argc) count = atoi(argv[++i]);
        else if (!strcmp(a, "--shuffle") && i + 1 < argc) seed = atol(argv[++i]);
        else if (!strcmp(a, "--method") && i + 1 < argc) co.method = argv[++i];
        else if (!strcmp(a, "--scheme") && i + 1 < argc) co.scheme = argv[++i];
        else if (!strcmp(a, "--asymmetric")) co.asymmetric = 1;
        else if (!strcmp(a, "--per-tensor-weights")) co.per_tensor_weights = 1;
        else if (!strcmp(a, "--weight-bits") && i + 1 < argc) {
            co.weight_bits = cli_weight_bits(argv[++i]);
            if (!co.weight_bits)
                return cli_fail("calibrate: --weight-bits takes 4, 6, 7 or 8, not '%s'", argv[i]), 2;
        } else if (!strcmp(a, "--streaming")) co.streaming = 1;
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) quiet = 1;
        else if (!strcmp(a, "-o") && i + 1 < argc) out = argv[++i];
        else if (a[0] == '-' && a[1]) return cli_fail("calibrate: unknown option '%s' (or missing value)", a), 2;
        else if (!c.model_path) c.model_path = a;
        else return cli_fail("calibrate: unexpected argument '%s'", a), 2;
    }
    if (!c.model_path || !data || !out)
        return cli_fail("usage: octet calibrate MODEL --data DIR -o PLAN.json [--count N] [--shuffle SEED]\n"
                        "  [--method minmax|entropy|percentile[:P]|mse] [--scheme compute|all] [--asymmetric]\n"
                        "  [--per-tensor-weights] [--weight-bits 4|6|7|8] [--streaming]\n"
                        "  [--preset NAME | preprocessing flags]\n"
                        "  [--shape NAME=DIMS] [--threads N] [--quiet]\n%s",
                        cli_ptq_usage),
               2;
    if (count < 0) return cli_fail("--count must be positive"), 2;
    cli_dataset d;
    if (cli_dataset_open(&d, data, count, seed)) return 1;
    if (cli_ptq_before(&pq, &c, out, quiet)) {
        cli_dataset_free(&d);
        return 1;
    }
    oct_error err = {0};
    oct_model *m = NULL;
    if (cli_load_model(&c, &m, &err)) {
        cli_dataset_free(&d);
        return cli_error(&err);
    }
    int rc = 1;
    oct_plan *plan = NULL;
    calib_ctx cc = {{&c, m, &d, 0}, {0, 0, NULL}};
    cli_dataset_fix_shape(&c, m, &d);
    char pre[256];
    snprintf(pre, sizeof pre, "mode %d size %dx%d pad %d %s scale %g mean %g,%g,%g std %g,%g,%g", (int)c.pre.mode,
             c.pre.width, c.pre.height, c.pre.pad_value, c.pre.bgr ? "BGR" : "RGB", c.pre.scale, c.pre.mean[0],
             c.pre.mean[1], c.pre.mean[2], c.pre.std[0], c.pre.std[1], c.pre.std[2]);
    co.data_desc = data;
    co.preprocess_desc = pre;
    co.progress = progress;
    co.progress_user = &cc;
    cli_progress_start(&cc.prog, "calibrating", quiet);
    oct_session_options so;
    cli_session_options(&c, &so);
    int skipped = 0;
    double t0 = cli_now_ms();
    oct_status st = oct_calibrate_model(m, &so, &co, d.n, cli_dataset_sample, &cc, &plan, &skipped, &err);
    double el = (cli_now_ms() - t0) / 1000.0;
    cli_progress_end(&cc.prog);
    if (st) {
        cli_error(&err);
        goto done;
    }
    if (cli_ptq_after(&pq, &c, &cc.sc, plan, quiet)) goto done;
    if (oct_plan_save(plan, out, &err)) {
        cli_error(&err);
        goto done;
    }
    int tc[4], nc[4];
    oct_plan_counts(plan, tc, nc);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (!quiet)
        printf("calibrated %s: %d samples (%d skipped) in %.1f s (%.2f samples/s), method %s, scheme %s%s\n"
               "plan %s: %d tensors (%d int8), %d nodes (%d int8); peak RSS %.0f MiB\n",
               c.model_path, d.n - skipped, skipped, el, el > 0 ? (d.n - skipped) / el : 0, co.method, co.scheme,
               co.weight_bits == 4 ? ", 4-bit weights" : co.weight_bits == 6 ? ", 6-bit weights" : "", out,
               tc[0] + tc[1] + tc[2] + tc[3], tc[1], nc[0] + nc[1] + nc[2] + nc[3], nc[1], ru.ru_maxrss / 1024.0);
    rc = 0;
done:
    oct_plan_free(plan);
    oct_model_free(m);
    cli_dataset_free(&d);
    return rc;
}
