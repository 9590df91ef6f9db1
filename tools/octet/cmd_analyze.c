/* octet analyze MODEL --plan PLAN.json --data DIR [--count N] [--sensitivity]
 *   [--sens-images K] [--metric M [--task T] [--decoder D] [--ref-conf X]]
 *   [--json] [-o OUT.json] [--report OUT.html] [--quiet]
 *   [preprocessing flags] [--shape ...] [--threads N]
 * FP32 and the plan (simulated) side by side: per-tensor fidelity,
 * sensitivity rankings, diagnosis (docs/analysis-json.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "octet/eval.h"
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
    const char *data = NULL, *out = NULL, *report = NULL, *metric = NULL;
    int count = 0, quiet = 0;
    oct_eval_options eo; /* the task metric's decoding */
    oct_eval_options_init(&eo);
    oct_task_scorer *task = NULL;
    oct_error err = {0};
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
        else if (!strcmp(a, "--metric") && i + 1 < argc) metric = argv[++i];
        else if (!strcmp(a, "--ref-conf") && i + 1 < argc) eo.ref_conf = (float)atof(argv[++i]);
        else if (!strcmp(a, "--task") && i + 1 < argc) {
            const char *t = argv[++i];
            if (strcmp(t, "detect") && strcmp(t, "classify"))
                return cli_fail("analyze: --task takes detect or classify, not '%s'", t), 2;
            eo.task = strcmp(t, "detect") ? OCT_TASK_CLASSIFY : OCT_TASK_DETECT;
        } else if (!strcmp(a, "--decoder") && i + 1 < argc) {
            if (oct_decoder_parse(argv[++i], &eo.decode.decoder, &err)) return cli_error(&err), 2;
        }
        else if (!strcmp(a, "-o") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) quiet = 1;
        else if (a[0] == '-' && a[1]) return cli_fail("analyze: unknown option '%s' (or missing value)", a), 2;
        else if (!c.model_path) c.model_path = a;
        else return cli_fail("analyze: unexpected argument '%s'", a), 2;
    }
    if (!c.model_path || !data || !c.plan_path)
        return cli_fail("usage: octet analyze MODEL --plan PLAN.json --data DIR [--count N] [--sensitivity]\n"
                        "  [--sens-images K] [--metric map50_95|map50|map75|top1|top5 [--task detect|classify]\n"
                        "  [--decoder yolov10|yolov8|yolov5] [--ref-conf 0.25]] (the first ranking also by\n"
                        "  that metric against FP32, label-free) [--json] [-o OUT.json] [--report OUT.html] [--quiet]\n"
                        "  [--preset NAME | preprocessing flags] [--shape NAME=DIMS] [--threads N]"),
               2;
    if (count < 0 || ao.sens_images < 0) return cli_fail("--count and --sens-images must be positive"), 2;
    if (metric && !ao.sensitivity) return cli_fail("analyze: --metric scores the sensitivity ranking: add --sensitivity"), 2;
    if (metric && oct_eval_task_scorer_create(&eo, metric, &task, &err)) return cli_error(&err), 2;
    ao.task = task;
    cli_dataset d;
    if (cli_dataset_open(&d, data, count, -1)) {
        oct_eval_task_scorer_free(task);
        return 1;
    }
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
    oct_eval_task_scorer_free(task);
    oct_analysis_free(an);
    oct_plan_free(plan);
    oct_model_free(m);
    cli_dataset_free(&d);
    return rc;
}
