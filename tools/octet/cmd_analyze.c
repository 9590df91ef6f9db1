/* octet analyze MODEL --plan PLAN.json --data DIR [--count N] [--sensitivity]
 *   [--sens-images K] [--json] [-o OUT.json] [--report OUT.html] [--quiet]
 *   [preprocessing flags] [--shape ...] [--threads N]
 * FP32 and the plan (simulated) side by side: per-tensor fidelity,
 * sensitivity rankings, diagnosis (docs/analysis-json.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "octet/quant.h"

typedef struct {
    cli_sample_ctx sc;
    cli_progress prog;
} analyze_ctx;

static void progress(void *user, const char *phase, int done, int total) {
    analyze_ctx *ac = user;
    ac->prog.what = phase;
    cli_progress_update(&ac->prog, done, total);
    if (done == total) cli_progress_end(&ac->prog);
}

int cmd_analyze(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    oct_analyze_options ao;
    oct_analyze_options_init(&ao);
    const char *data = NULL, *out = NULL, *report = NULL;
    int count = 0, quiet = 0;
    for (int i = 2; i < argc; i++) {
        int r = cli_parse_common(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(a, "--count") && i + 1 < argc) count = atoi(argv[++i]);
        else if (!strcmp(a, "--sensitivity")) ao.sensitivity = 1;
        else if (!strcmp(a, "--sens-images") && i + 1 < argc) ao.sens_images = atoi(argv[++i]);
        else if (!strcmp(a, "--report") && i + 1 < argc) report = argv[++i];
        else if (!strcmp(a, "-o") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) quiet = 1;
        else if (a[0] == '-' && a[1]) return cli_fail("analyze: unknown option '%s' (or missing value)", a), 2;
        else if (!c.model_path) c.model_path = a;
        else return cli_fail("analyze: unexpected argument '%s'", a), 2;
    }
    if (!c.model_path || !data || !c.plan_path)
        return cli_fail("usage: octet analyze MODEL --plan PLAN.json --data DIR [--count N] [--sensitivity]\n"
                        "  [--sens-images K] [--json] [-o OUT.json] [--report OUT.html] [--quiet]\n"
                        "  [--preset NAME | preprocessing flags] [--shape NAME=DIMS] [--threads N]"),
               2;
    if (count < 0 || ao.sens_images < 0) return cli_fail("--count and --sens-images must be positive"), 2;
    cli_dataset d;
    if (cli_dataset_open(&d, data, count, -1)) return 1;
    oct_error err = {0};
    oct_model *m = NULL;
    oct_plan *plan = NULL;
    oct_analysis *an = NULL;
    int rc = 1;
    if (cli_load_model(&c, &m, &err) || oct_plan_load(c.plan_path, &plan, &err) || oct_plan_check(plan, m, &err)) {
        rc = cli_error(&err);
        goto done;
    }
    cli_dataset_fix_shape(&c, m, &d);
    analyze_ctx ac = {{&c, m, &d, 0}, {0, 0, NULL}};
    cli_progress_start(&ac.prog, "analyze", quiet);
    ao.progress = progress;
    ao.progress_user = &ac;
    ao.plan_desc = c.plan_path;
    ao.data_desc = data;
    oct_session_options so;
    cli_session_options(&c, &so);
    int skipped = 0;
    if (oct_analyze(m, &so, plan, &ao, d.n, cli_dataset_sample, &ac, &an, &skipped, &err)) {
        cli_progress_end(&ac.prog);
        rc = cli_error(&err);
        goto done;
    }
    cli_progress_end(&ac.prog);
    char *json = oct_analysis_json(an);
    if (!json) {
        cli_fail("out of memory");
        goto done;
    }
    rc = 0;
    if (out) rc = cli_write_text(out, json);
    if (c.json) printf("%s\n", json);
    oct_free(json);
    if (!rc && report && oct_analysis_write_html(an, report, &err)) rc = cli_error(&err);
    if (!c.json && !quiet) {
        oct_analysis_print(an, stdout);
        if (out) printf("analysis written to %s\n", out);
        if (report && !rc) printf("report written to %s\n", report);
    }
done:
    oct_analysis_free(an);
    oct_plan_free(plan);
    oct_model_free(m);
    cli_dataset_free(&d);
    return rc;
}
