/* octet eval MODEL --images DIR ...: task accuracy (detection mAP,
 * classification top-1/top-5) against labels, or label-free fidelity
 * against the FP32 model. The JSON output is described in docs/eval-json.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "eval_args.h"
#include "octet/eval.h"

static const char *usage_text =
    "usage: octet eval MODEL --images DIR [options]\n"
    "  --task detect|classify        (detect)\n"
    "  detect:   --decoder yolov10|yolov8|yolo11|yolov5 (yolov10)\n"
    "            --labels DIR (YOLO txt) | --coco instances.json   [--names FILE]\n"
    "            --conf 0.001  --iou 0.7  --max-det 300  --dump-detections FILE.json\n"
    "  classify: --labels synsets.txt (label = the wnid that starts each file name)\n"
    "  --reference fp32              label-free: score against the FP32 model (the default\n"
    "                                without labels); --ref-conf 0.25 for detections\n"
    "  --plan PLAN.json [--simulate] evaluate the model quantized by a plan\n"
    "  --count N                     the first N images by name\n"
    "  --json  --quiet  --threads N  --preset NAME (yolo for detect, imagenet for classify)\n"
    "  and the preprocessing flags of 'octet run'";

typedef struct progress_state {
    double t0;
    int enabled;
} progress_state;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(void *user, int done, int total) {
    progress_state *p = user;
    if (!p->enabled) return;
    double dt = now_s() - p->t0, rate = dt > 0 ? done / dt : 0;
    double eta = rate > 0 ? (total - done) / rate : 0;
    fprintf(stderr, "\r  %d/%d images  %.2f images/s  ETA %d:%02d   ", done, total, rate,
            (int)eta / 60, (int)eta % 60);
    if (done == total) fprintf(stderr, "\n");
    fflush(stderr);
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* JSON has no infinity: those are written as the strings "inf" / "-inf". */
static void json_num(FILE *f, double v) {
    if (isinf(v))
        fprintf(f, v > 0 ? "\"inf\"" : "\"-inf\"");
    else if (isnan(v))
        fprintf(f, "null");
    else
        fprintf(f, "%.6f", v);
}

static void json_scores(FILE *f, const char *key, const oct_score_summary *s) {
    fprintf(f,
            ",\n  \"%s\": {\"images\": %d, \"min\": %.6f, \"median\": %.6f, \"max\": %.6f, "
            "\"mean\": %.6f, \"histogram\": [",
            key, s->n, s->min, s->median, s->max, s->mean);
    for (int i = 0; i < 10; i++)
        fprintf(f, "%s%d", i ? ", " : "", s->hist[i]);
    fprintf(f, "]}");
}

static const char *class_name(const oct_eval_report *r, int k, char *buf, size_t n) {
    if (k < r->n_names && r->names[k][0]) return r->names[k];
    snprintf(buf, n, "class %d", k);
    return buf;
}


static void print_json(FILE *f, const eval_args *a, const cli_common *c, const oct_eval_report *r) {
    fprintf(f, "{\n  \"schema\": \"octet-eval/1\",\n  \"model\": ");
    json_str(f, c->model_path);
    fprintf(f, ",\n  \"task\": \"%s\",\n  \"mode\": \"%s\",\n  \"plan\": ",
            a->classify ? "classify" : "detect", r->fidelity ? "fidelity" : "labels");
    if (a->plan)
        json_str(f, a->plan);
    else
        fprintf(f, "null");
    fprintf(f, ",\n  \"images_dir\": ");
    json_str(f, a->images);
    fprintf(f, ",\n  \"images\": %d,\n  \"seconds\": %.3f", r->n_images, r->seconds);
    if (!a->classify) {
        const oct_coco_result *m = &r->coco;
        fprintf(f, ",\n  \"decoder\": \"%s\",\n  \"conf\": %g,\n  \"iou\": %g,\n  \"max_det\": %d",
                a->decoder, a->conf, a->iou, a->max_det);
        if (r->fidelity) fprintf(f, ",\n  \"ref_conf\": %g", a->ref_conf);
        fprintf(f, ",\n  \"map50_95\": %.6f,\n  \"map50\": %.6f,\n  \"map75\": %.6f", m->map,
                m->map50, m->map75);
        fprintf(f,
                ",\n  \"ground_truth_boxes\": %d,\n  \"images_without_objects\": %d,\n  "
                "\"missing_label_files\": %d,"
                "\n  \"images_not_in_annotations\": %d,\n  \"detections\": %d,\n  "
                "\"images_without_detections\": %d",
                m->n_gt, r->n_images_no_gt, r->n_missing_labels, r->n_skipped_images,
                r->n_detections, r->n_images_no_det);
        json_scores(f, "top_score", &r->top_score);
        if (r->fidelity) json_scores(f, "reference_top_score", &r->ref_top_score);
        fprintf(f, ",\n  \"classes\": [");
        int first = 1;
        for (int k = 0; k < m->n_classes; k++) {
            const oct_coco_class *cl = &m->classes[k];
            if (!cl->n_gt && !cl->n_det) continue;
            char buf[32];
            fprintf(f, "%s\n    {\"id\": %d, \"name\": ", first ? "" : ",", k);
            json_str(f, class_name(r, k, buf, sizeof buf));
            fprintf(f, ", \"gt\": %d, \"detections\": %d, \"ap50_95\": %.6f, \"ap50\": %.6f}",
                    cl->n_gt, cl->n_det, cl->ap, cl->ap50);
            first = 0;
        }
        fprintf(f, "%s]", first ? "" : "\n  ");
    } else {
        fprintf(
            f,
            ",\n  \"top1\": %.6f,\n  \"top5\": %.6f,\n  \"top1_count\": %d,\n  \"top5_count\": %d",
            r->top1, r->top5, r->n_top1, r->n_top5);
    }
    if (r->fidelity) {
        fprintf(f, ",\n  \"outputs\": [");
        for (int k = 0; k < r->n_outputs; k++) {
            const oct_output_fidelity *o = &r->outputs[k];
            fprintf(f, "%s\n    {\"name\": ", k ? "," : "");
            json_str(f, o->name);
            fprintf(f, ", \"values\": %lld, \"cosine\": ", (long long)o->n_values);
            json_num(f, o->cosine);
            fprintf(f, ", \"sqnr_db\": ");
            json_num(f, o->sqnr_db);
            fprintf(f, ", \"max_abs_diff\": ");
            json_num(f, o->max_abs_diff);
            fprintf(f, "}");
        }
        fprintf(f, "%s]", r->n_outputs ? "\n  " : "");
    }
    fprintf(f, "\n}\n");
}

static void print_scores(FILE *f, const char *what, const oct_score_summary *s) {
    if (!s->n) {
        fprintf(f, "%s: no image has a detection\n", what);
        return;
    }
    fprintf(f, "%s (%d images): min %.3f  median %.3f  max %.3f  mean %.3f\n  histogram", what,
            s->n, s->min, s->median, s->max, s->mean);
    for (int i = 0; i < 10; i++)
        fprintf(f, " %.1f:%d", i / 10.0, s->hist[i]);
    fprintf(f, "\n");
}

static void fmt_db(char *buf, size_t n, double v) {
    if (isinf(v))
        snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, n, "%.2f", v);
}

static void print_text(FILE *f, const eval_args *a, const cli_common *c, const oct_eval_report *r) {
    fprintf(f, "%s: %s%s on %d images of %s in %.1f s (%.2f images/s)\n", c->model_path,
            a->classify ? "classify" : "detect",
            r->fidelity ? ", scored against the FP32 model (label-free)" : "", r->n_images,
            a->images, r->seconds, r->seconds > 0 ? r->n_images / r->seconds : 0);
    if (a->plan)
        fprintf(f, "plan: %s%s\n", a->plan, a->simulate ? " (simulated)" : " (INT8 kernels where they apply)");
    else if (r->fidelity)
        fprintf(f, "candidate: the FP32 model itself (no --plan)\n");
    if (a->classify) {
        fprintf(f, "%s  %.4f  (%d/%d)\n%s  %.4f  (%d/%d)\n",
                r->fidelity ? "top-1 agreement" : "top-1", r->top1, r->n_top1, r->n_images,
                r->fidelity ? "top-5 agreement" : "top-5", r->top5, r->n_top5, r->n_images);
    } else {
        const oct_coco_result *m = &r->coco;
        fprintf(f, "decoder %s, conf %g, NMS IoU %g, max %d per image\n", a->decoder, a->conf,
                a->iou, a->max_det);
        if (r->fidelity)
            fprintf(f, "truth: the FP32 detections with score >= %g: %d boxes\n", a->ref_conf,
                    m->n_gt);
        else
            fprintf(f, "truth: %s: %d boxes\n", a->coco ? a->coco : a->labels, m->n_gt);
        if (r->n_missing_labels)
            fprintf(f, "  %d images have no label file (counted as without objects)\n",
                    r->n_missing_labels);
        if (r->n_skipped_images)
            fprintf(f, "  %d images are not in the annotations (skipped)\n", r->n_skipped_images);
        if (r->n_images_no_gt) fprintf(f, "  %d images without objects\n", r->n_images_no_gt);
        fprintf(f, "detections: %d; images with no detection at all: %d\n", r->n_detections,
                r->n_images_no_det);
        print_scores(f, "best score per image", &r->top_score);
        if (r->fidelity) print_scores(f, "FP32 best score per image", &r->ref_top_score);
        fprintf(f, "\n  %-20s %6s %6s %9s %7s\n", "class", "gt", "dets", "AP50-95", "AP50");
        for (int k = 0; k < m->n_classes; k++) {
            const oct_coco_class *cl = &m->classes[k];
            if (!cl->n_gt) continue;
            char buf[32];
            fprintf(f, "  %-20.20s %6d %6d %9.4f %7.4f\n", class_name(r, k, buf, sizeof buf),
                    cl->n_gt, cl->n_det, cl->ap, cl->ap50);
        }
        fprintf(f, "\nmAP50-95  %.4f\nmAP50     %.4f\nmAP75     %.4f\n", m->map, m->map50,
                m->map75);
    }
    if (r->fidelity) {
        fprintf(f, "\n  %-24s %10s %10s %12s\n", "output", "cosine", "SQNR dB", "max |diff|");
        for (int k = 0; k < r->n_outputs; k++) {
            char db[32];
            fmt_db(db, sizeof db, r->outputs[k].sqnr_db);
            fprintf(f, "  %-24.24s %10.6f %10s %12.6g\n", r->outputs[k].name, r->outputs[k].cosine,
                    db, r->outputs[k].max_abs_diff);
        }
    }
}

/* A dynamic image input (e.g. batch_size x 3 x 224 x 224) gets batch 1 and
 * the preprocessing's size, unless --shape gave it. */
int cmd_eval(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    eval_args a;
    eval_args_init(&a);
    for (int i = 2; i < argc; i++) {
        int r = eval_args_parse(&a, &c, "--count", argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        r = cli_parse_common(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *o = argv[i];
        if (!strcmp(o, "--quiet") || !strcmp(o, "-q"))
            a.quiet = 1;
        else if (o[0] == '-' && o[1])
            return cli_fail("eval: unknown option '%s'", o), 2;
        else if (!c.model_path)
            c.model_path = o;
        else
            return cli_fail("eval: unexpected argument '%s'", o), 2;
    }
    a.plan = c.plan_path; /* --plan and --simulate are common options */
    a.simulate = c.simulate;
    if (!c.model_path || !a.images) return cli_fail("%s", usage_text), 2;
    if (a.simulate && !a.plan) return cli_fail("eval: --simulate needs --plan"), 2;
    if (eval_args_check(&a, "eval")) return 2;

    oct_eval_options o;
    oct_error err = {0};
    oct_model *m = NULL;
    oct_session *ref = NULL, *cand = NULL;
    oct_eval_report *r = NULL;
    int rc = 1;
    if (cli_load_model(&c, &m, &err)) return cli_error(&err);
    if (eval_args_options(&a, &c, m, &o, &err)) {
        oct_model_free(m);
        return cli_error(&err), 2;
    }
    progress_state ps = {now_s(), !a.quiet && isatty(2)};
    o.progress = progress;
    o.progress_user = &ps;
    oct_session_options so;
    cli_session_options(&c, &so);
    /* The candidate is the plan's session; without a plan it is the FP32
     * model, which in fidelity mode is also the reference (run once). */
    if (oct_eval_open_candidate(m, a.plan, a.simulate, &so, &cand, &err)) goto done;
    if (a.fidelity && a.plan && oct_session_create(m, &so, &ref, &err)) goto done;
    ps.t0 = now_s(); /* sessions are ready: time the images only */
    oct_status st = a.fidelity ? oct_eval_fidelity(ref ? ref : cand, cand, &o, &r, &err)
                               : oct_eval_run(cand, &o, &r, &err);
    if (st) goto done;
    if (c.json)
        print_json(stdout, &a, &c, r);
    else
        print_text(stdout, &a, &c, r);
    rc = 0;
done:
    if (rc) {
        if (ps.enabled) fprintf(stderr, "\n");
        cli_error(&err);
    }
    oct_eval_report_free(r);
    oct_session_free(ref);
    oct_session_free(cand);
    oct_model_free(m);
    return rc;
}
