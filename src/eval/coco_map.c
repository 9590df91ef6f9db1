/* COCO bbox mAP, computed the way pycocotools' COCOeval does it, step for
 * step, so that the numbers agree with the official evaluator:
 *  - per image and class, detections sorted by descending score with a
 *    stable sort (numpy argsort kind='mergesort') and cut to maxDets=100;
 *  - ground truth sorted with ignored (crowd, or area outside the range)
 *    boxes last; IoU as maskApi's bbIou: [x,y,w,h] with no +1, and a crowd
 *    box's IoU is intersection / detection area;
 *  - at each IoU threshold, each detection in score order takes the unmatched
 *    box of best IoU >= threshold (a later box with an equal IoU wins, since
 *    pycocotools only skips on '<'); crowd boxes may be matched repeatedly;
 *  - across images (ascending image id), detections concatenated and sorted
 *    again (stable), cumulative TP/FP, precision made monotone from the right
 *    and sampled at the 101 recall points with searchsorted(side='left');
 *  - a class without non-ignored ground truth is -1 and left out of the mean.
 * Area range is "all" ([0, 1e10]): the only area effect is on boxes whose
 * area field lies outside it. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "octet/eval.h"

#define N_IOU 10
#define N_REC 101
#define MAX_DETS 100
#define AREA_LO 0.0
#define AREA_HI 1e10 /* 1e5 ** 2 */

typedef struct dt_box {
    double x, y, w, h, score;
    int cls;
} dt_box;

typedef struct img_entry {
    int64_t id;
    int n_gt, n_dt;
    oct_gt_box *gt;
    dt_box *dt;
} img_entry;

struct oct_coco_eval {
    int n, cap;
    img_entry *img;
    int n_classes;
};

oct_status oct_coco_eval_create(oct_coco_eval **out, oct_error *err) {
    if (!out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_coco_eval_create: NULL argument");
    *out = calloc(1, sizeof **out);
    return *out ? OCT_OK : oct_fail(err, OCT_E_NOMEM, "coco eval: out of memory");
}

void oct_coco_eval_free(oct_coco_eval *e) {
    if (!e) return;
    for (int i = 0; i < e->n; i++) {
        free(e->img[i].gt);
        free(e->img[i].dt);
    }
    free(e->img);
    free(e);
}

oct_status oct_coco_eval_add_image(oct_coco_eval *e, int64_t image_id, const oct_gt_box *gt,
                                   int n_gt, const oct_detection *dt, int n_dt, oct_error *err) {
    if (!e || n_gt < 0 || n_dt < 0 || (n_gt && !gt) || (n_dt && !dt))
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_coco_eval_add_image: bad argument");
    for (int i = 0; i < e->n; i++)
        if (e->img[i].id == image_id)
            return oct_fail(err, OCT_E_INVALID_ARG, "coco eval: image id %lld added twice",
                            (long long)image_id);
    for (int i = 0; i < n_gt; i++)
        if (gt[i].class_id < 0)
            return oct_fail(err, OCT_E_INVALID_ARG, "coco eval: image %lld: negative class %d",
                            (long long)image_id, gt[i].class_id);
    if (e->n == e->cap) {
        int cap = e->cap ? e->cap * 2 : 64;
        img_entry *g = realloc(e->img, sizeof *g * (size_t)cap);
        if (!g) return oct_fail(err, OCT_E_NOMEM, "coco eval: out of memory");
        e->img = g;
        e->cap = cap;
    }
    img_entry *im = &e->img[e->n];
    memset(im, 0, sizeof *im);
    im->id = image_id;
    im->gt = malloc(sizeof *im->gt * (size_t)(n_gt ? n_gt : 1));
    im->dt = malloc(sizeof *im->dt * (size_t)(n_dt ? n_dt : 1));
    if (!im->gt || !im->dt) {
        free(im->gt);
        free(im->dt);
        return oct_fail(err, OCT_E_NOMEM, "coco eval: out of memory");
    }
    if (n_gt) memcpy(im->gt, gt, sizeof *gt * (size_t)n_gt);
    for (int i = 0; i < n_gt; i++) {
        if (im->gt[i].area < 0) im->gt[i].area = im->gt[i].w * im->gt[i].h;
        if (gt[i].class_id >= e->n_classes) e->n_classes = gt[i].class_id + 1;
    }
    int k = 0;
    for (int i = 0; i < n_dt; i++) {
        if (dt[i].class_id < 0) continue; /* no category can hold it */
        dt_box *b = &im->dt[k++];
        b->x = dt[i].x1;
        b->y = dt[i].y1;
        b->w = (double)dt[i].x2 - (double)dt[i].x1;
        b->h = (double)dt[i].y2 - (double)dt[i].y1;
        b->score = dt[i].score;
        b->cls = dt[i].class_id;
        if (b->cls >= e->n_classes) e->n_classes = b->cls + 1;
    }
    im->n_gt = n_gt;
    im->n_dt = k;
    e->n++;
    return OCT_OK;
}

/* The thresholds exactly as numpy.linspace computes them. */
static void thresholds(double iou[N_IOU], double rec[N_REC]) {
    double step = (0.95 - 0.5) / (N_IOU - 1);
    for (int i = 0; i < N_IOU; i++)
        iou[i] = i * step + 0.5;
    iou[N_IOU - 1] = 0.95;
    step = (1.0 - 0.0) / (N_REC - 1);
    for (int i = 0; i < N_REC; i++)
        rec[i] = i * step + 0.0;
    rec[N_REC - 1] = 1.0;
}

/* maskApi.c bbIou. */
static double bb_iou(const dt_box *d, const oct_gt_box *g) {
    double ga = g->w * g->h, da = d->w * d->h;
    double w = fmin(d->w + d->x, g->w + g->x) - fmax(d->x, g->x);
    if (w <= 0) return 0;
    double h = fmin(d->h + d->y, g->h + g->y) - fmax(d->y, g->y);
    if (h <= 0) return 0;
    double i = w * h, u = g->iscrowd ? da : da + ga - i;
    return i / u;
}

/* Stable merge sort of idx[0..n) by descending key. */
static void merge_sort_desc(int *idx, int n, const double *key, int *tmp) {
    if (n < 2) return;
    int h = n / 2;
    merge_sort_desc(idx, h, key, tmp);
    merge_sort_desc(idx + h, n - h, key, tmp);
    int i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = key[idx[j]] > key[idx[i]] ? idx[j++] : idx[i++];
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, sizeof(int) * (size_t)n);
}

static int cmp_img(const void *a, const void *b) {
    int64_t x = (*(img_entry *const *)a)->id, y = (*(img_entry *const *)b)->id;
    return (x > y) - (x < y);
}

/* One class's detections over all images, as evaluateImg leaves them. */
typedef struct class_acc {
    int n, cap;
    double *score;
    unsigned char *tp[N_IOU], *ig[N_IOU];
    int npig;
} class_acc;

static int acc_push(class_acc *a, double score) {
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 256;
        double *s = realloc(a->score, sizeof(double) * (size_t)cap);
        if (!s) return -1;
        a->score = s;
        for (int t = 0; t < N_IOU; t++) {
            unsigned char *p = realloc(a->tp[t], (size_t)cap), *q;
            if (p) a->tp[t] = p;
            q = realloc(a->ig[t], (size_t)cap);
            if (q) a->ig[t] = q;
            if (!p || !q) return -1;
        }
        a->cap = cap;
    }
    a->score[a->n] = score;
    return a->n++;
}

static void acc_free(class_acc *a) {
    free(a->score);
    for (int t = 0; t < N_IOU; t++) {
        free(a->tp[t]);
        free(a->ig[t]);
    }
}

/* evaluateImg for one image and class, appending to the accumulator. */
static int eval_img(const img_entry *im, int cls, const double *iou_thr, class_acc *acc,
                    int *scratch, double *key, double *ious) {
    int G = 0, D = 0;
    int *gi = scratch, *di = scratch + im->n_gt, *tmp = scratch + im->n_gt + im->n_dt;
    /* ground truth: not ignored first, then ignored, each in input order */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < im->n_gt; i++) {
            const oct_gt_box *g = &im->gt[i];
            if (g->class_id != cls) continue;
            int ign = g->iscrowd || g->area < AREA_LO || g->area > AREA_HI;
            if (ign == pass) gi[G++] = i;
        }
    for (int i = 0; i < im->n_dt; i++)
        if (im->dt[i].cls == cls) {
            key[D] = im->dt[i].score;
            di[D++] = i;
        }
    if (!G && !D) return 0;
    int *order = tmp, *mtmp = tmp + D;
    for (int i = 0; i < D; i++)
        order[i] = i;
    merge_sort_desc(order, D, key, mtmp);
    if (D > MAX_DETS) D = MAX_DETS;
    int npig = 0;
    unsigned char gt_ig[4096], *gig = G <= 4096 ? gt_ig : malloc((size_t)G);
    unsigned char *gtm = malloc((size_t)(G ? G : 1));
    if (!gig || !gtm) {
        if (gig != gt_ig) free(gig);
        free(gtm);
        return -1;
    }
    for (int g = 0; g < G; g++) {
        const oct_gt_box *b = &im->gt[gi[g]];
        gig[g] = b->iscrowd || b->area < AREA_LO || b->area > AREA_HI;
        npig += !gig[g];
    }
    for (int d = 0; d < D; d++)
        for (int g = 0; g < G; g++)
            ious[(size_t)d * G + g] = bb_iou(&im->dt[di[order[d]]], &im->gt[gi[g]]);
    int base = acc->n;
    for (int d = 0; d < D; d++)
        if (acc_push(acc, im->dt[di[order[d]]].score) < 0) goto oom;
    for (int t = 0; t < N_IOU; t++) {
        memset(gtm, 0, (size_t)(G ? G : 1));
        for (int d = 0; d < D; d++) {
            double best = iou_thr[t] < 1 - 1e-10 ? iou_thr[t] : 1 - 1e-10;
            int m = -1;
            for (int g = 0; g < G; g++) {
                if (gtm[g] && !im->gt[gi[g]].iscrowd) continue;
                if (m > -1 && !gig[m] && gig[g]) break;
                double v = ious[(size_t)d * G + g];
                if (v < best) continue;
                best = v;
                m = g;
            }
            unsigned char matched = m >= 0, ignored = m >= 0 && gig[m];
            if (m >= 0) gtm[m] = 1;
            /* an unmatched detection outside the area range is ignored too */
            const dt_box *b = &im->dt[di[order[d]]];
            double area = b->w * b->h;
            if (!matched && (area < AREA_LO || area > AREA_HI)) ignored = 1;
            acc->tp[t][base + d] = matched;
            acc->ig[t][base + d] = ignored;
        }
    }
    acc->npig += npig;
    if (gig != gt_ig) free(gig);
    free(gtm);
    return 0;
oom:
    if (gig != gt_ig) free(gig);
    free(gtm);
    return -1;
}

/* accumulate() for one class: AP at each IoU threshold, or -1. */
static int class_ap(class_acc *a, const double *rec_thr, double ap[N_IOU]) {
    if (a->npig == 0) {
        for (int t = 0; t < N_IOU; t++)
            ap[t] = -1;
        return 0;
    }
    int n = a->n;
    int *idx = malloc(sizeof(int) * (size_t)(n ? 2 * n : 1));
    double *pr = malloc(sizeof(double) * (size_t)(n ? 2 * n : 1));
    if (!idx || !pr) {
        free(idx);
        free(pr);
        return -1;
    }
    double *rc = pr + n;
    for (int i = 0; i < n; i++)
        idx[i] = i;
    merge_sort_desc(idx, n, a->score, idx + n);
    for (int t = 0; t < N_IOU; t++) {
        double tp = 0, fp = 0;
        for (int i = 0; i < n; i++) {
            int k = idx[i];
            if (!a->ig[t][k]) {
                if (a->tp[t][k])
                    tp += 1;
                else
                    fp += 1;
            }
            rc[i] = tp / a->npig;
            pr[i] = tp / (fp + tp + DBL_EPSILON);
        }
        for (int i = n - 1; i > 0; i--)
            if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
        double sum = 0;
        int lo = 0;
        for (int r = 0; r < N_REC; r++) {
            while (lo < n && rc[lo] < rec_thr[r])
                lo++;           /* searchsorted, side='left' */
            if (lo >= n) break; /* the rest stay 0 */
            sum += pr[lo];
        }
        ap[t] = sum / N_REC;
    }
    free(idx);
    free(pr);
    return 0;
}

oct_status oct_coco_eval_compute(const oct_coco_eval *e, oct_coco_result *out, oct_error *err) {
    if (!e || !out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_coco_eval_compute: NULL argument");
    memset(out, 0, sizeof *out);
    out->map = out->map50 = out->map75 = -1;
    double iou_thr[N_IOU], rec_thr[N_REC];
    thresholds(iou_thr, rec_thr);
    int K = e->n_classes, max_gt = 0, max_dt = 0;
    img_entry **order = malloc(sizeof *order * (size_t)(e->n ? e->n : 1));
    out->classes = calloc((size_t)(K ? K : 1), sizeof *out->classes);
    if (!order || !out->classes) goto oom_early;
    for (int i = 0; i < e->n; i++) {
        order[i] = &e->img[i];
        if (e->img[i].n_gt > max_gt) max_gt = e->img[i].n_gt;
        if (e->img[i].n_dt > max_dt) max_dt = e->img[i].n_dt;
    }
    qsort(order, (size_t)e->n, sizeof *order, cmp_img);
    int *scratch = malloc(sizeof(int) * (size_t)(max_gt + 3 * max_dt + 1));
    double *key = malloc(sizeof(double) * (size_t)(max_dt + 1));
    double *ious = malloc(sizeof(double) *
                          ((size_t)(max_dt < MAX_DETS ? max_dt : MAX_DETS) * (size_t)max_gt + 1));
    if (!scratch || !key || !ious) {
        free(scratch);
        free(key);
        free(ious);
        goto oom_early;
    }
    double sum = 0, sum50 = 0, sum75 = 0;
    int n_valid = 0;
    oct_status st = OCT_OK;
    for (int k = 0; k < K && !st; k++) {
        class_acc acc;
        memset(&acc, 0, sizeof acc);
        double ap[N_IOU];
        for (int i = 0; i < e->n && !st; i++)
            if (eval_img(order[i], k, iou_thr, &acc, scratch, key, ious)) st = OCT_E_NOMEM;
        if (!st && class_ap(&acc, rec_thr, ap)) st = OCT_E_NOMEM;
        if (!st) {
            oct_coco_class *c = &out->classes[k];
            c->n_gt = acc.npig;
            c->n_det = acc.n;
            c->ap = c->ap50 = -1;
            if (ap[0] >= 0) {
                double s = 0;
                for (int t = 0; t < N_IOU; t++)
                    s += ap[t];
                c->ap = s / N_IOU;
                c->ap50 = ap[0];
                sum += c->ap;
                sum50 += ap[0];
                sum75 += ap[5];
                n_valid++;
            }
            out->n_gt += acc.npig;
            out->n_det += acc.n;
        }
        acc_free(&acc);
    }
    free(scratch);
    free(key);
    free(ious);
    free(order);
    if (st) {
        oct_coco_result_free(out);
        return oct_fail(err, st, "coco eval: out of memory");
    }
    out->n_classes = K;
    out->n_images = e->n;
    if (n_valid) {
        out->map = sum / n_valid;
        out->map50 = sum50 / n_valid;
        out->map75 = sum75 / n_valid;
    }
    return OCT_OK;
oom_early:
    free(order);
    oct_coco_result_free(out);
    return oct_fail(err, OCT_E_NOMEM, "coco eval: out of memory");
}

void oct_coco_result_free(oct_coco_result *r) {
    if (!r) return;
    free(r->classes);
    r->classes = NULL;
    r->n_classes = 0;
}
