/* The label-free task scorer of the sensitivity ranking (oct_task_scorer in
 * octet/quant.h): each configuration's outputs against the FP32 run of the
 * same sample, as oct_eval_fidelity scores a whole plan. Detection: COCO
 * mAP of the configuration's detections against FP32's detections with
 * score >= ref_conf (one accumulator per configuration); classify: how
 * often FP32's top-1 class is the configuration's top-1 (or in its top-5).
 * Detection also gets a continuous measure (metric[1], which orders the
 * ranking): the mean over FP32's detections of the best match among the
 * configuration's boxes of the same class, a match scoring IoU x the ratio
 * of the two scores (smaller over larger). mAP against FP32 only moves once
 * a box falls below IoU 0.5..0.95 with its FP32 twin or a score swaps rank,
 * so on a few images a small shift of every box edge (which costs mAP
 * against the labels) or a uniform loss of confidence leaves it at 1; the
 * fidelity sees both.
 *
 * Why label-free even when labels exist: the ranking runs on calibration
 * samples, which carry none, and agreement with FP32 is what one tensor's
 * quantization can lower; it moves with box precision at high IoU, which
 * the SQNR of pixel coordinates hides (YOLOv10's DFL softmax in INT8: 49.8
 * dB on the boxes, yet mAP50-95 against FP32 0.996). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/eval_internal.h"

typedef struct fid {
    oct_task_scorer pub;
    oct_eval_task task;
    oct_decode_options decode;
    float ref_conf;
    int metric; /* 0 map50_95, 1 map50, 2 map75, 3 top1, 4 top5 */
    int n;
    oct_coco_eval **coco; /* detect: per configuration */
    double *iou_sum;      /* detect: per configuration */
    int64_t *iou_n;
    int64_t *agree;       /* classify: per configuration */
    int64_t samples;
    oct_gt_box *gt; /* the current sample's FP32 detections */
    double *gt_score;
    int n_gt;
    int64_t ref_class;
    char name[64];
} fid;

static void release(fid *f) {
    for (int i = 0; f->coco && i < f->n; i++)
        oct_coco_eval_free(f->coco[i]);
    free(f->coco);
    free(f->iou_sum);
    free(f->iou_n);
    f->iou_sum = NULL;
    f->iou_n = NULL;
    free(f->agree);
    free(f->gt);
    free(f->gt_score);
    f->gt_score = NULL;
    f->coco = NULL;
    f->agree = NULL;
    f->gt = NULL;
    f->n = 0;
}

static oct_status begin(void *user, int n, oct_error *err) {
    fid *f = user;
    release(f);
    f->samples = 0;
    f->n = n;
    if (f->task == OCT_TASK_DETECT) {
        f->coco = calloc((size_t)n + 1, sizeof *f->coco);
        f->iou_sum = calloc((size_t)n + 1, sizeof *f->iou_sum);
        f->iou_n = calloc((size_t)n + 1, sizeof *f->iou_n);
        if (!f->coco || !f->iou_sum || !f->iou_n) return oct_fail(err, OCT_E_NOMEM, "task scorer: out of memory");
        for (int i = 0; i < n; i++)
            OCT_TRY(oct_coco_eval_create(&f->coco[i], err));
    } else {
        f->agree = calloc((size_t)n + 1, sizeof *f->agree);
        if (!f->agree) return oct_fail(err, OCT_E_NOMEM, "task scorer: out of memory");
    }
    return OCT_OK;
}

static oct_status observe_detect(fid *f, int config, int sample, const oct_tensor_view *out,
                                 oct_error *err) {
    oct_detection *d = NULL;
    int n = 0;
    OCT_TRY(oct_decode_detections(out, &f->decode, NULL, &d, &n, err));
    oct_status st = OCT_OK;
    if (config < 0) {
        free(f->gt);
        free(f->gt_score);
        f->gt = n ? malloc(sizeof *f->gt * (size_t)n) : NULL;
        f->gt_score = n ? malloc(sizeof *f->gt_score * (size_t)n) : NULL;
        f->n_gt = 0;
        if (n && (!f->gt || !f->gt_score)) st = oct_fail(err, OCT_E_NOMEM, "task scorer: out of memory");
        for (int k = 0; !st && k < n; k++)
            if (d[k].score >= f->ref_conf) {
                double w = (double)d[k].x2 - d[k].x1, h = (double)d[k].y2 - d[k].y1;
                f->gt_score[f->n_gt] = d[k].score;
                f->gt[f->n_gt++] = (oct_gt_box){d[k].x1, d[k].y1, w, h, w * h, d[k].class_id, 0};
            }
    } else {
        st = oct_coco_eval_add_image(f->coco[config], sample, f->gt, f->n_gt, d, n, err);
        for (int g = 0; !st && g < f->n_gt; g++) {
            const oct_gt_box *r = &f->gt[g];
            double best = 0;
            for (int k = 0; k < n; k++) {
                if (d[k].class_id != r->class_id) continue;
                double iw = fmin(r->x + r->w, d[k].x2) - fmax(r->x, d[k].x1);
                double ih = fmin(r->y + r->h, d[k].y2) - fmax(r->y, d[k].y1);
                if (iw <= 0 || ih <= 0) continue;
                double in = iw * ih, un = r->w * r->h + ((double)d[k].x2 - d[k].x1) * ((double)d[k].y2 - d[k].y1) - in;
                double sr = f->gt_score[g], sc = d[k].score;
                double ratio = sr > 0 && sc > 0 ? (sc < sr ? sc / sr : sr / sc) : 0;
                if (un > 0 && in / un * ratio > best) best = in / un * ratio;
            }
            f->iou_sum[config] += best;
            f->iou_n[config]++;
        }
    }
    oct_free(d);
    return st;
}

static oct_status observe(void *user, int config, int sample, const oct_session *s,
                          oct_error *err) {
    fid *f = user;
    if (config >= f->n)
        return oct_fail(err, OCT_E_INVALID_ARG, "task scorer: configuration %d of %d", config,
                        f->n);
    oct_tensor_view out;
    OCT_TRY(oct_session_get_output(s, 0, &out, err));
    if (f->task == OCT_TASK_DETECT) return observe_detect(f, config, sample, &out, err);
    int64_t n = oct_eval_numel(&out), best[5];
    if (n < 1) return oct_fail(err, OCT_E_SHAPE, "task scorer: output 0 is empty");
    if (config < 0) {
        oct_eval_top_k(&out, n, 1, &f->ref_class);
        f->samples++;
        return OCT_OK;
    }
    int k = f->metric == 4 ? (n < 5 ? (int)n : 5) : 1;
    oct_eval_top_k(&out, n, k, best);
    for (int j = 0; j < k; j++)
        if (best[j] == f->ref_class) {
            f->agree[config]++;
            break;
        }
    return OCT_OK;
}

static oct_status result(void *user, int config, double x[2], oct_error *err) {
    fid *f = user;
    if (config < 0 || config >= f->n)
        return oct_fail(err, OCT_E_INVALID_ARG, "task scorer: configuration %d of %d", config,
                        f->n);
    if (f->task != OCT_TASK_DETECT) {
        x[0] = f->samples ? (double)f->agree[config] / (double)f->samples : 0;
        x[1] = NAN;
        return OCT_OK;
    }
    oct_coco_result r;
    OCT_TRY(oct_coco_eval_compute(f->coco[config], &r, err));
    x[0] = f->metric == 1 ? r.map50 : f->metric == 2 ? r.map75 : r.map;
    x[1] = f->iou_n[config] ? f->iou_sum[config] / (double)f->iou_n[config] : 1;
    oct_coco_result_free(&r);
    return OCT_OK;
}

oct_status oct_eval_task_scorer_create(const oct_eval_options *o, const char *metric,
                                       oct_task_scorer **out, oct_error *err) {
    if (!o || !metric || !out)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_eval_task_scorer_create: NULL argument");
    *out = NULL;
    static const char *const names[] = {"map50_95", "map50", "map75", "top1", "top5"};
    int m = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(metric, names[i])) m = i;
    int det = o->task == OCT_TASK_DETECT;
    if (m < 0 || det != (m < 3))
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "task scorer: metric '%s' does not fit the task (%s)", metric,
                        det ? "map50_95, map50, map75" : "top1, top5");
    fid *f = calloc(1, sizeof *f);
    if (!f) return oct_fail(err, OCT_E_NOMEM, "task scorer: out of memory");
    f->task = o->task;
    f->decode = o->decode;
    f->ref_conf = o->ref_conf;
    f->metric = m;
    snprintf(f->name, sizeof f->name, "label-free %s", metric);
    f->pub = (oct_task_scorer){begin, observe, result, f, f->name, det ? "fidelity of FP32's boxes (IoU x score ratio)" : NULL};
    *out = &f->pub;
    return OCT_OK;
}

void oct_eval_task_scorer_free(oct_task_scorer *t) {
    if (!t) return;
    fid *f = t->user;
    release(f);
    free(f);
}
