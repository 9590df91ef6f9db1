/* octet tune MODEL --data CALIB_DIR --target EXPR [evaluation options of
 *   octet eval: --images DIR (--labels DIR | --coco FILE | label-free)]
 *   [--method M|auto] [--scheme all|compute] [--weight-bits 4|6|7|8]
 *   [--fallback fp16|bf16|fp32] [--plan BASE.json] [--count N]
 *   [--eval-count N] [--sens-images K] [--max-evals N] -o PLAN.json
 *   [--qdq OUT.onnx] [--trt-cache FILE] [--report OUT.html] [--json OUT.json]
 *   [--quiet]
 * Calibrates (or starts from --plan), then finds the smallest set of tensors
 * to keep out of INT8 for the target (oct_tune). Exits 3 when the target is
 * not reachable, after writing the best plan found. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "eval_args.h"
#include "ptq_args.h"
#include "core/error.h"
#include "octet/quant.h"

typedef struct tune_ctx {
    cli_sample_ctx sc;
    cli_progress prog;
    const oct_model *m;
    oct_session_options so;
    oct_eval_options eo;
    const eval_args *ea;
    const oct_target *target;
    oct_session *ref; /* FP32, for the label-free mode */
    int quiet;
} tune_ctx;

static void progress(void *user, const char *phase, int done, int total) {
    tune_ctx *tc = user;
    tc->prog.what = phase;
    cli_progress_update(&tc->prog, done, total);
    if (done == total) cli_progress_end(&tc->prog);
}

static void log_line(void *user, const char *line) {
    tune_ctx *tc = user;
    if (!tc->quiet) {
        cli_progress_end(&tc->prog);
        printf("  %s\n", line);
        fflush(stdout);
    }
}

/* The target's metric from an evaluation report. */
static oct_status pick(const tune_ctx *tc, const oct_eval_report *r, double *x, oct_error *err) {
    const char *mname = tc->target->metric;
    if (!strcmp(mname, "sqnr")) {
        if (!r->fidelity || r->n_outputs < 1)
            return oct_fail(err, OCT_E_INVALID_ARG, "target sqnr needs the label-free mode (no --labels/--coco)");
        double mn = INFINITY;
        for (int i = 0; i < r->n_outputs; i++)
            if (r->outputs[i].sqnr_db < mn) mn = r->outputs[i].sqnr_db;
        *x = mn;
        return OCT_OK;
    }
    int det = r->task == OCT_TASK_DETECT;
    if (det && !strcmp(mname, "map50_95")) *x = r->coco.map;
    else if (det && !strcmp(mname, "map50")) *x = r->coco.map50;
    else if (det && !strcmp(mname, "map75")) *x = r->coco.map75;
    else if (!det && !strcmp(mname, "top1")) *x = r->top1;
    else if (!det && !strcmp(mname, "top5")) *x = r->top5;
    else
        return oct_fail(err, OCT_E_INVALID_ARG, "target metric '%s' does not fit the task (%s)", mname,
                        det ? "detect: map50_95, map50, map75, sqnr" : "classify: top1, top5, sqnr");
    return OCT_OK;
}

static oct_status metric(void *user, const oct_plan *plan, double *x, oct_error *err) {
    tune_ctx *tc = user;
    oct_session *cand = NULL;
    oct_eval_report *r = NULL;
    oct_status st = OCT_OK;
    if (plan) st = oct_session_create_simulated(tc->m, &tc->so, plan, &cand, err);
    if (!st) {
        oct_session *c = cand ? cand : tc->ref;
        st = tc->ea->fidelity ? oct_eval_fidelity(tc->ref, c, &tc->eo, &r, err) : oct_eval_run(c, &tc->eo, &r, err);
    }
    if (!st) st = pick(tc, r, x, err);
    oct_eval_report_free(r);
    oct_session_free(cand);
    return st;
}

static const char *usage =
    "usage: octet tune MODEL --data CALIB_DIR --target EXPR -o PLAN.json [options]\n"
    "  --target EXPR        map50_95>=0.99*fp32, top1>=0.995*fp32, sqnr>=30, ...\n"
    "  --images DIR         evaluation images, with --labels DIR | --coco FILE (else label-free:\n"
    "                       scored against the FP32 model), --task, --decoder, --conf, --iou as in eval\n"
    "  --method M|auto      calibrator (auto: per tensor; default auto); --scheme compute|all (compute)\n"
    "  --weight-bits 4|6|7|8  width of the INT8 nodes' weights when calibrating (8)\n"
    "  --plan BASE.json     start from this plan instead of calibrating\n"
    "  --ptq cle,bias-correction,adaround  optimise the weights after calibrating (docs/ptq.md);\n"
    "                       --ptq-images N --ptq-columns N --adaround-iters N --adaround-batch N --adaround-reg L\n"
    "  --fallback fp16|bf16|fp32 (fp16)   --count N (calibration images)   --eval-count N\n"
    "  --sens-images K (8)  --max-evals N (24)\n"
    "  --qdq OUT.onnx  --trt-cache FILE  --report OUT.html  --json OUT.json  --quiet\n"
    "  and the preprocessing flags, --shape, --threads";

int cmd_tune(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    eval_args ea;
    eval_args_init(&ea);
    oct_tune_options to;
    oct_tune_options_init(&to);
    oct_calib_options co;
    oct_calib_options_init(&co);
    /* the defaults: per-tensor calibrator choice, INT8 where ONNX Runtime's
     * quantizer and TensorRT's explicit mode put it (Conv/MatMul inputs);
     * --scheme all starts from pure INT8 instead */
    co.method = "auto";
    co.scheme = "compute";
    const char *data = NULL, *out = NULL, *target = NULL, *qdq = NULL, *trt = NULL, *report = NULL, *json = NULL;
    int count = 0, quiet = 0;
    cli_ptq pq;
    cli_ptq_init(&pq);
    for (int i = 2; i < argc; i++) {
        int r = eval_args_parse(&ea, &c, "--eval-count", argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        r = cli_ptq_parse(&pq, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        r = cli_parse_common(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = v && (!strcmp(a, "--data") || !strcmp(a, "--target") || !strcmp(a, "--method") ||
                          !strcmp(a, "--scheme") || !strcmp(a, "--fallback") || !strcmp(a, "--count") ||
                          !strcmp(a, "--sens-images") || !strcmp(a, "--max-evals") || !strcmp(a, "-o") ||
                          !strcmp(a, "--qdq") || !strcmp(a, "--trt-cache") || !strcmp(a, "--report") ||
                          !strcmp(a, "--json-out") || !strcmp(a, "--weight-bits"));
        if (takes) i++;
        if (takes && !strcmp(a, "--data")) data = v;
        else if (takes && !strcmp(a, "--target")) target = v;
        else if (takes && !strcmp(a, "--method")) co.method = v;
        else if (takes && !strcmp(a, "--scheme")) co.scheme = v;
        else if (takes && !strcmp(a, "--weight-bits")) {
            co.weight_bits = cli_weight_bits(v);
            if (!co.weight_bits) return cli_fail("tune: --weight-bits takes 4, 6, 7 or 8, not '%s'", v), 2;
        } else if (takes && !strcmp(a, "--fallback")) {
            to.fallback = oct_precision_parse(v);
            if (to.fallback < 0 || to.fallback == 1)
                return cli_fail("tune: --fallback takes fp16, bf16 or fp32, not '%s'", v), 2;
        } else if (takes && !strcmp(a, "--count")) count = atoi(v);
        else if (takes && !strcmp(a, "--sens-images")) to.sens_images = atoi(v);
        else if (takes && !strcmp(a, "--max-evals")) to.max_evals = atoi(v);
        else if (takes && !strcmp(a, "-o")) out = v;
        else if (takes && !strcmp(a, "--qdq")) qdq = v;
        else if (takes && !strcmp(a, "--trt-cache")) trt = v;
        else if (takes && !strcmp(a, "--report")) report = v;
        else if (takes && !strcmp(a, "--json-out")) json = v;
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) quiet = 1;
        else if (a[0] == '-' && a[1]) return cli_fail("tune: unknown option '%s' (or missing value)", a), 2;
        else if (!c.model_path) c.model_path = a;
        else return cli_fail("tune: unexpected argument '%s'", a), 2;
    }
    if (!c.model_path || !data || !target || !out || !ea.images) return cli_fail("%s", usage), 2;
    if (count < 0 || to.sens_images < 0 || to.max_evals < 0) return cli_fail("tune: counts must be positive"), 2;
    if (eval_args_check(&ea, "tune")) return 2;
    /* a base plan's weights are already decided; silently ignoring the flag
     * would tune a plan of another width than asked for */
    if (c.plan_path && co.weight_bits)
        return cli_fail("tune: --weight-bits applies when tune calibrates; with --plan the plan's "
                        "calibration.weight_bits is used"),
               2;
    if (c.plan_path && pq.methods)
        return cli_fail("tune: --ptq works on the plan tune calibrates; it cannot take --plan"), 2;
    oct_error err = {0};
    if (oct_target_parse(target, &to.target, &err)) return cli_error(&err), 2;
    if (!strcmp(to.target.metric, "sqnr") && to.target.relative)
        return cli_fail("tune: an sqnr target is absolute (e.g. sqnr>=30): FP32's own SQNR is infinite"), 2;
    to.target_desc = target;
    cli_dataset d;
    if (cli_dataset_open(&d, data, count, -1)) return 1;
    oct_model *m = NULL, *m_ref = NULL;
    oct_plan *base = NULL, *plan = NULL;
    oct_analysis *an = NULL;
    oct_task_scorer *task = NULL;
    tune_ctx tc;
    memset(&tc, 0, sizeof tc);
    int rc = 1, met = 0;
    const char *model_given = c.model_path;
    if (cli_ptq_before(&pq, &c, out, quiet)) goto done;
    if (cli_load_model(&c, &m, &err)) {
        rc = cli_error(&err);
        goto done;
    }
    cli_dataset_fix_shape(&c, m, &d);
    tc.sc = (cli_sample_ctx){&c, m, &d, 0};
    tc.m = m;
    tc.ea = &ea;
    tc.target = &to.target;
    tc.quiet = quiet;
    cli_session_options(&c, &tc.so);
    if (eval_args_options(&ea, &c, m, &tc.eo, &err)) {
        rc = cli_error(&err);
        goto done;
    }
    /* calibrate on images prepared as the evaluation prepares them (the
     * task's preset unless flags were given): a plan calibrated on
     * stretched images and evaluated on letterboxed ones sees other ranges */
    if (!c.pre_set) {
        c.pre = tc.eo.pre;
        c.pre_set = 1;
    }
    /* the ranking by the target's own metric, against FP32 (label-free) */
    if (strcmp(to.target.metric, "sqnr") &&
        oct_eval_task_scorer_create(&tc.eo, to.target.metric, &task, &err)) {
        rc = cli_error(&err);
        goto done;
    }
    to.task = task;
    cli_progress_start(&tc.prog, "tune", quiet);
    double t0 = cli_now_ms();
    if (c.plan_path) {
        if (oct_plan_load(c.plan_path, &base, &err) || oct_plan_check(base, m, &err)) {
            rc = cli_error(&err);
            goto done;
        }
    } else {
        if (!quiet) printf("calibrating %s on %d images (method %s, scheme %s)\n", c.model_path, d.n, co.method, co.scheme);
        co.data_desc = data;
        int skipped = 0;
        if (oct_calibrate_model(m, &tc.so, &co, d.n, cli_dataset_sample, &tc, &base, &skipped, &err)) {
            rc = cli_error(&err);
            goto done;
        }
        if (!quiet) printf("  calibrated in %.1f s\n", (cli_now_ms() - t0) / 1000);
    }
    if (pq.methods) {
        /* tune the optimised model; FP32 stays the model as given */
        if (cli_ptq_after(&pq, &c, &tc.sc, base, quiet)) goto done;
        const char *opt_path = c.model_path;
        c.model_path = model_given;
        if (cli_load_model(&c, &m_ref, &err)) {
            rc = cli_error(&err);
            goto done;
        }
        c.model_path = opt_path;
        oct_model_free(m);
        m = NULL;
        if (cli_load_model(&c, &m, &err)) {
            rc = cli_error(&err);
            goto done;
        }
        tc.sc.m = m;
        tc.m = m;
    }
    if (oct_session_create(m_ref ? m_ref : m, &tc.so, &tc.ref, &err)) {
        rc = cli_error(&err);
        goto done;
    }
    to.log = log_line;
    to.log_user = &tc;
    to.progress = progress;
    to.progress_user = &tc;
    if (!quiet) printf("tuning for %s on %s\n", target, ea.images);
    if (oct_tune(m, &tc.so, base, &to, d.n, cli_dataset_sample, &tc, metric, &tc, &plan, &met,
                 (report || json) ? &an : NULL, &err)) {
        cli_progress_end(&tc.prog);
        rc = cli_error(&err);
        goto done;
    }
    cli_progress_end(&tc.prog);
    rc = 0;
    if (oct_plan_save(plan, out, &err)) rc = cli_error(&err);
    if (!rc && qdq && oct_export_qdq_onnx(m, plan, &tc.so, qdq, &err)) rc = cli_error(&err);
    if (!rc && trt && oct_export_trt_cache(plan, trt, 0, NULL, &err)) rc = cli_error(&err);
    if (!rc && an && report && oct_analysis_write_html(an, report, &err)) rc = cli_error(&err);
    if (!rc && an && json) {
        char *text = oct_analysis_json(an);
        rc = text ? cli_write_text(json, text) : 1;
        oct_free(text);
    }
    if (!rc && !quiet) {
        int tcn[4], ncn[4];
        oct_plan_counts(plan, tcn, ncn);
        printf("%s: plan %s: %d of %d nodes INT8, %d kept in %s; %.1f s\n",
               met ? "target met" : "TARGET NOT MET (best plan written)", out, ncn[1], ncn[0] + ncn[1] + ncn[2] + ncn[3],
               ncn[2] + ncn[3], oct_precision_name((oct_precision)to.fallback),
               (cli_now_ms() - t0) / 1000);
        if (an) oct_analysis_print(an, stdout);
    }
    if (!rc && !met) rc = 3;
done:
    oct_eval_task_scorer_free(task);
    oct_analysis_free(an);
    oct_plan_free(plan);
    oct_plan_free(base);
    oct_session_free(tc.ref);
    oct_model_free(m);
    oct_model_free(m_ref);
    cli_dataset_free(&d);
    return rc;
}
