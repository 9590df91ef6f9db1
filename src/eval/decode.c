/* Detector output decoders: YOLOv10 (end-to-end), YOLOv8/YOLO11 and YOLOv5
 * (class-aware NMS), with boxes mapped back through the letterbox.
 *
 * The NMS path mirrors ultralytics' validation settings (multi_label=True):
 * every (box, class) pair above conf is a candidate, the best max_nms by
 * score go into greedy NMS (suppress IoU > iou within a class), and the best
 * max_det survivors are kept. ultralytics offsets boxes by class * 7680 and
 * runs one torchvision NMS; running NMS within each class is the same thing
 * without the float32 rounding the offsets add. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"
#include "core/error.h"
#include "octet/eval.h"

void oct_decode_options_init(oct_decode_options *o) {
    memset(o, 0, sizeof *o);
    o->decoder = OCT_DECODER_YOLOV10;
    o->conf = 0.001f;
    o->iou = 0.7f;
    o->max_det = 300;
    o->max_nms = 30000;
}

oct_status oct_decoder_parse(const char *name, oct_decoder *out, oct_error *err) {
    if (!name || !out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_decoder_parse: NULL argument");
    if (!strcmp(name, "yolov10"))
        *out = OCT_DECODER_YOLOV10;
    else if (!strcmp(name, "yolov8") || !strcmp(name, "yolo11") || !strcmp(name, "yolov11"))
        *out = OCT_DECODER_YOLOV8;
    else if (!strcmp(name, "yolov5"))
        *out = OCT_DECODER_YOLOV5;
    else
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "unknown decoder '%s' (known: yolov10, yolov8, yolo11, yolov5)", name);
    return OCT_OK;
}

const char *oct_decoder_name(oct_decoder d) {
    switch (d) {
    case OCT_DECODER_YOLOV10: return "yolov10";
    case OCT_DECODER_YOLOV8: return "yolov8";
    case OCT_DECODER_YOLOV5: return "yolov5";
    }
    return "?";
}

typedef struct cand {
    float x1, y1, x2, y2, score;
    int cls;
    int64_t order; /* position in ultralytics' (anchor, class) enumeration */
} cand;

static int cmp_cand(const void *pa, const void *pb) {
    const cand *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

static void shape_str(const oct_tensor_view *t, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? "x%lld" : "%lld", (long long)t->dims[i]);
    if (t->ndim == 0) snprintf(buf, n, "a scalar");
}

/* torchvision's box_iou arithmetic, in float. */
static float iou_xyxy(const cand *a, const cand *b) {
    float w = (a->x2 < b->x2 ? a->x2 : b->x2) - (a->x1 > b->x1 ? a->x1 : b->x1);
    float h = (a->y2 < b->y2 ? a->y2 : b->y2) - (a->y1 > b->y1 ? a->y1 : b->y1);
    if (w <= 0 || h <= 0) return 0;
    float inter = w * h;
    float ua = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1) - inter;
    return ua > 0 ? inter / ua : 0;
}

/* Greedy NMS over candidates sorted by score; keeps at most max_det, in
 * order, compacting them to the front of c. Returns the number kept. */
static int nms(cand *c, int n, float thr, int max_det, int n_classes) {
    int *first = malloc(sizeof(int) * (size_t)n_classes); /* per class: chain of kept */
    int *next = malloc(sizeof(int) * (size_t)(max_det > 0 ? max_det : 1));
    if (!first || !next) {
        free(first);
        free(next);
        return -1;
    }
    for (int k = 0; k < n_classes; k++)
        first[k] = -1;
    int kept = 0;
    for (int i = 0; i < n && kept < max_det; i++) {
        int ok = 1;
        for (int j = first[c[i].cls]; j >= 0; j = next[j])
            if (iou_xyxy(&c[i], &c[j]) > thr) {
                ok = 0;
                break;
            }
        if (!ok) continue;
        c[kept] = c[i];
        next[kept] = first[c[kept].cls];
        first[c[kept].cls] = kept;
        kept++;
    }
    free(first);
    free(next);
    return kept;
}

static void xywh_cand(cand *c, float cx, float cy, float w, float h) {
    c->x1 = cx - w / 2;
    c->y1 = cy - h / 2;
    c->x2 = cx + w / 2;
    c->y2 = cy + h / 2;
}

/* Candidates of a YOLOv8 [4+C, A] or YOLOv5 [A, 5+C] output. */
static int collect(const float *d, oct_decoder dec, int64_t A, int C, float conf, cand **out,
                   int64_t *n_out) {
    int64_t cap = 1024, n = 0;
    cand *c = malloc(sizeof(cand) * (size_t)cap);
    if (!c) return -1;
    for (int64_t a = 0; a < A; a++) {
        float obj = 1.0f;
        const float *row = NULL;
        if (dec == OCT_DECODER_YOLOV5) {
            row = d + a * (5 + C);
            obj = row[4];
            if (!(obj > conf)) continue;
        }
        for (int k = 0; k < C; k++) {
            float s = dec == OCT_DECODER_YOLOV5 ? row[5 + k] * obj : d[(4 + k) * A + a];
            if (!(s > conf)) continue;
            if (n == cap) {
                cand *g = realloc(c, sizeof(cand) * (size_t)(cap *= 2));
                if (!g) {
                    free(c);
                    return -1;
                }
                c = g;
            }
            if (dec == OCT_DECODER_YOLOV5)
                xywh_cand(&c[n], row[0], row[1], row[2], row[3]);
            else
                xywh_cand(&c[n], d[a], d[A + a], d[2 * A + a], d[3 * A + a]);
            c[n].score = s;
            c[n].cls = k;
            c[n].order = a * C + k;
            n++;
        }
    }
    *out = c;
    *n_out = n;
    return 0;
}

/* Whether A anchors fit a W x H input: per_cell anchors on each cell of the
 * stride-8/16/32 grids (YOLOv5, v8, 11), or of the P6 (8..64) or P2
 * (4..32) variants. This is what tells a [1,300,6] end-to-end output from a
 * one-class YOLOv5 one. */
static int anchors_fit(int64_t A, int per_cell, int W, int H) {
    static const int sets[3][4] = {{8, 16, 32, 0}, {8, 16, 32, 64}, {4, 8, 16, 32}};
    for (int k = 0; k < 3; k++) {
        int64_t n = 0;
        for (int j = 0; j < 4 && sets[k][j]; j++) {
            int s = sets[k][j];
            n += (int64_t)((W + s - 1) / s) * ((H + s - 1) / s) * per_cell;
        }
        if (n == A) return 1;
    }
    return 0;
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

static void map_back(oct_detection *d, const oct_image_info *info) {
    float sx = info->scale_x > 0 ? info->scale_x : 1, sy = info->scale_y > 0 ? info->scale_y : 1;
    float W = (float)info->orig_width, H = (float)info->orig_height;
    d->x1 = clampf((d->x1 - info->pad_x) / sx, 0, W);
    d->x2 = clampf((d->x2 - info->pad_x) / sx, 0, W);
    d->y1 = clampf((d->y1 - info->pad_y) / sy, 0, H);
    d->y2 = clampf((d->y2 - info->pad_y) / sy, 0, H);
}

/* A float32 copy of the output when it is float16 or double. */
static const float *as_f32(const oct_tensor_view *t, int64_t n, float **owned) {
    *owned = NULL;
    if (t->dtype == OCT_FLOAT) return t->data;
    float *f = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!f) return NULL;
    for (int64_t i = 0; i < n; i++)
        f[i] = t->dtype == OCT_DOUBLE ? (float)((const double *)t->data)[i]
                                      : oct_f16_to_f32(((const uint16_t *)t->data)[i]);
    *owned = f;
    return f;
}

oct_status oct_decode_detections(const oct_tensor_view *t, const oct_decode_options *o,
                                 const oct_image_info *info, oct_detection **dets, int *n_dets,
                                 oct_error *err) {
    if (!t || !o || !dets || !n_dets)
        return oct_fail(err, OCT_E_INVALID_ARG, "oct_decode_detections: NULL argument");
    *dets = NULL;
    *n_dets = 0;
    char shp[128];
    shape_str(t, shp, sizeof shp);
    if (t->dtype != OCT_FLOAT && t->dtype != OCT_FLOAT16 && t->dtype != OCT_DOUBLE)
        return oct_fail(err, OCT_E_SHAPE, "decoder %s: the output is %s %s; expected float32",
                        oct_decoder_name(o->decoder), oct_dtype_name(t->dtype), shp);
    if (o->max_det < 1 || o->max_nms < 1)
        return oct_fail(err, OCT_E_INVALID_ARG, "decoder: max_det and max_nms must be >= 1");
    int ok = t->ndim == 3 && t->dims[0] >= 1 && t->data;
    int64_t rows = 0, C = 0;
    switch (o->decoder) {
    case OCT_DECODER_YOLOV10:
        ok = ok && t->dims[2] == 6;
        rows = ok ? t->dims[1] : 0;
        if (!ok)
            return oct_fail(err, OCT_E_SHAPE,
                            "decoder yolov10 expects an output [N,K,6] (x1,y1,x2,y2,score,class); "
                            "the model's output is %s",
                            shp);
        break;
    case OCT_DECODER_YOLOV8:
        ok = ok && t->dims[1] >= 5 && t->dims[1] < t->dims[2];
        if (!ok)
            return oct_fail(
                err, OCT_E_SHAPE,
                "decoder yolov8 expects an output [N,4+C,A] (cx,cy,w,h, C class scores; "
                "fewer rows than anchors); the model's output is %s",
                shp);
        C = t->dims[1] - 4;
        rows = t->dims[2];
        break;
    case OCT_DECODER_YOLOV5:
        ok = ok && t->dims[2] >= 6 && t->dims[1] > t->dims[2];
        if (!ok)
            return oct_fail(
                err, OCT_E_SHAPE,
                "decoder yolov5 expects an output [N,A,5+C] (cx,cy,w,h,objectness, C class "
                "scores; more anchors than columns); the model's output is %s",
                shp);
        C = t->dims[2] - 5;
        rows = t->dims[1];
        break;
    default:
        return oct_fail(err, OCT_E_INVALID_ARG, "decoder: unknown decoder %d", (int)o->decoder);
    }
    if (o->decoder != OCT_DECODER_YOLOV10 && info && info->width > 0 && info->height > 0) {
        int per_cell = o->decoder == OCT_DECODER_YOLOV5 ? 3 : 1;
        if (!anchors_fit(rows, per_cell, info->width, info->height)) {
            int64_t want = 0;
            for (int s = 8; s <= 32; s *= 2)
                want +=
                    (int64_t)((info->width + s - 1) / s) * ((info->height + s - 1) / s) * per_cell;
            return oct_fail(
                err, OCT_E_SHAPE,
                o->decoder == OCT_DECODER_YOLOV5
                    ? "decoder yolov5 expects an output [N,%lld,5+C] for a %dx%d input (3 anchors "
                      "per cell at strides 8, 16, 32); the model's output is %s"
                    : "decoder yolov8 expects an output [N,4+C,%lld] for a %dx%d input (one anchor "
                      "per cell at strides 8, 16, 32); the model's output is %s",
                (long long)want, info->width, info->height, shp);
        }
    }
    if (C > 100000 || rows > ((int64_t)1 << 26))
        return oct_fail(err, OCT_E_SHAPE, "decoder %s: output %s is too large to be a detector's",
                        oct_decoder_name(o->decoder), shp);
    int64_t per_item = o->decoder == OCT_DECODER_YOLOV10
                           ? rows * 6
                           : rows * (C + 4 + (o->decoder == OCT_DECODER_YOLOV5));
    float *owned;
    const float *d = as_f32(t, per_item, &owned);
    if (!d) return oct_fail(err, OCT_E_NOMEM, "decoder: out of memory");

    oct_detection *res = NULL;
    int n = 0;
    if (o->decoder == OCT_DECODER_YOLOV10) {
        /* The rows come sorted from the model's TopK; a stable sort keeps
         * that order and copes with models that do not sort. */
        cand *c = malloc(sizeof(cand) * (size_t)(rows > 0 ? rows : 1));
        if (!c || !(res = malloc(sizeof *res * (size_t)(rows > 0 ? rows : 1)))) {
            free(c);
            free(owned);
            return oct_fail(err, OCT_E_NOMEM, "decoder: out of memory");
        }
        int nc = 0;
        for (int64_t r = 0; r < rows; r++) {
            const float *p = d + r * 6;
            /* A class that is not a small whole number is a broken row. */
            if (!(p[4] > o->conf) || !(p[5] >= 0 && p[5] < 1e6f)) continue;
            c[nc] = (cand){p[0], p[1], p[2], p[3], p[4], (int)(p[5] + 0.5f), r};
            nc++;
        }
        qsort(c, (size_t)nc, sizeof *c, cmp_cand);
        for (int i = 0; i < nc && n < o->max_det; i++, n++)
            res[n] = (oct_detection){c[i].x1, c[i].y1, c[i].x2, c[i].y2, c[i].score, c[i].cls};
        free(c);
    } else {
        cand *c = NULL;
        int64_t nc = 0;
        if (collect(d, o->decoder, rows, (int)C, o->conf, &c, &nc)) {
            free(owned);
            return oct_fail(err, OCT_E_NOMEM, "decoder: out of memory");
        }
        qsort(c, (size_t)nc, sizeof *c, cmp_cand);
        if (nc > o->max_nms) nc = o->max_nms;
        int kept = nms(c, (int)nc, o->iou, o->max_det, (int)C);
        if (kept < 0 || !(res = malloc(sizeof *res * (size_t)(kept > 0 ? kept : 1)))) {
            free(c);
            free(owned);
            return oct_fail(err, OCT_E_NOMEM, "decoder: out of memory");
        }
        for (int i = 0; i < kept; i++) {
            res[i].x1 = c[i].x1;
            res[i].y1 = c[i].y1;
            res[i].x2 = c[i].x2;
            res[i].y2 = c[i].y2;
            res[i].score = c[i].score;
            res[i].class_id = c[i].cls;
        }
        n = kept;
        free(c);
    }
    free(owned);
    if (info)
        for (int i = 0; i < n; i++)
            map_back(&res[i], info);
    if (!n) {
        free(res);
        res = NULL;
    }
    *dets = res;
    *n_dets = n;
    return OCT_OK;
}
