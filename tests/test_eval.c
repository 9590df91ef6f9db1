/* Unit tests of the evaluation code: COCO mAP on hand-built cases whose AP
 * is worked out by hand below, the detection decoders, and the YOLO label
 * reader. Prints one line per failure and a closing "N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "eval/eval_internal.h"
#include "octet/eval.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static oct_gt_box gt(int cls, double x, double y, double w, double h) {
    oct_gt_box g = {x, y, w, h, -1, cls, 0};
    return g;
}

/* A detection given as COCO [x,y,w,h]. */
static oct_detection det(int cls, float score, float x, float y, float w, float h) {
    oct_detection d = {x, y, x + w, y + h, score, cls};
    return d;
}

/* Scores images and returns the result (caller frees). */
typedef struct img {
    int64_t id;
    int n_gt, n_dt;
    oct_gt_box g[8];
    oct_detection d[128];
} img;

static oct_coco_result score(img *ims, int n) {
    oct_coco_eval *e = NULL;
    oct_coco_result r;
    memset(&r, 0, sizeof r);
    oct_error err = {0};
    if (oct_coco_eval_create(&e, &err)) {
        printf("create: %s\n", err.message);
        return r;
    }
    for (int i = 0; i < n; i++)
        if (oct_coco_eval_add_image(e, ims[i].id, ims[i].g, ims[i].n_gt, ims[i].d, ims[i].n_dt,
                                    &err))
            printf("add: %s\n", err.message);
    if (oct_coco_eval_compute(e, &r, &err)) printf("compute: %s\n", err.message);
    oct_coco_eval_free(e);
    return r;
}

static img *new_img(int64_t id) {
    img *m = calloc(1, sizeof *m);
    m->id = id;
    return m;
}

static void test_perfect(void) {
    /* One box, found exactly: at every IoU threshold tp=[1], rc=[1],
     * pr=[1/(1+eps)], so all 101 recall points read 1: AP = 1. */
    img *m = new_img(1);
    m->g[m->n_gt++] = gt(0, 10, 10, 20, 20);
    m->d[m->n_dt++] = det(0, 0.9f, 10, 10, 20, 20);
    oct_coco_result r = score(m, 1);
    CHECK(r.n_classes == 1 && NEAR(r.map, 1) && NEAR(r.map50, 1), "perfect: map %g map50 %g", r.map,
          r.map50);
    oct_coco_result_free(&r);
    free(m);
}

static void test_fp_above_tp(void) {
    /* One box; a false positive (0.9, far away) ranks above the true one
     * (0.8). tp=[0,1] fp=[1,1]: rc=[0,1], pr=[0,.5]; the envelope makes
     * pr=[.5,.5]. Recall 0 -> index 0 (rc[0]=0 >= 0), every other recall
     * point -> index 1: all 101 points read .5, AP = .5 at every threshold. */
    img *m = new_img(1);
    m->g[m->n_gt++] = gt(0, 0, 0, 10, 10);
    m->d[m->n_dt++] = det(0, 0.8f, 0, 0, 10, 10);
    m->d[m->n_dt++] = det(0, 0.9f, 50, 50, 10, 10);
    oct_coco_result r = score(m, 1);
    CHECK(NEAR(r.map, 0.5) && NEAR(r.map50, 0.5), "fp above tp: map %.12g map50 %.12g (want .5)",
          r.map, r.map50);
    oct_coco_result_free(&r);
    free(m);
}

static void test_duplicate(void) {
    /* Boxes A and B. d1 (.9) = A, d2 (.8) = A shifted by 1 (IoU .818 with A,
     * but A is taken: a duplicate, so a false positive), d3 (.7) = B.
     * tp=[1,1,2] fp=[0,1,1]: rc=[.5,.5,1], pr=[1,.5,2/3] -> envelope
     * [1,2/3,2/3]. Recall points 0...50 (51 of them) -> index 0 -> 1;
     * .51...1 (50) -> index 2 -> 2/3. AP = (51 + 50*2/3)/101 = 253/303 at
     * every threshold. */
    img *m = new_img(7);
    m->g[m->n_gt++] = gt(0, 0, 0, 10, 10);
    m->g[m->n_gt++] = gt(0, 100, 100, 10, 10);
    m->d[m->n_dt++] = det(0, 0.9f, 0, 0, 10, 10);
    m->d[m->n_dt++] = det(0, 0.8f, 1, 0, 10, 10);
    m->d[m->n_dt++] = det(0, 0.7f, 100, 100, 10, 10);
    oct_coco_result r = score(m, 1);
    CHECK(NEAR(r.map, 253.0 / 303) && NEAR(r.map50, 253.0 / 303),
          "duplicate: map %.12g map50 %.12g (want %.12g)", r.map, r.map50, 253.0 / 303);
    oct_coco_result_free(&r);
    free(m);
}

static void test_class_without_gt(void) {
    /* Class 0 is found perfectly (AP 1); class 1 only has a detection and no
     * ground truth: it is -1 and left out, so mAP stays 1 (not .5). Class 2
     * has ground truth and no detection: AP 0, which does count. */
    img *m = new_img(1);
    m->g[m->n_gt++] = gt(0, 10, 10, 20, 20);
    m->d[m->n_dt++] = det(0, 0.9f, 10, 10, 20, 20);
    m->d[m->n_dt++] = det(1, 0.95f, 50, 50, 20, 20);
    oct_coco_result r = score(m, 1);
    CHECK(r.n_classes == 2 && r.classes[1].ap == -1 && r.classes[1].ap50 == -1 && NEAR(r.map, 1),
          "class without gt: n %d ap1 %g map %g", r.n_classes,
          r.n_classes > 1 ? r.classes[1].ap : 0, r.map);
    oct_coco_result_free(&r);
    m->g[m->n_gt++] = gt(2, 300, 300, 20, 20);
    r = score(m, 1);
    CHECK(r.n_classes == 3 && NEAR(r.classes[2].ap, 0) && NEAR(r.map, 0.5),
          "class with gt, no det: map %g", r.map);
    oct_coco_result_free(&r);
    free(m);
}

static void test_iou_thresholds(void) {
    /* A detection of IoU .72 (10x7.2 inside 10x10: 72/100): a hit at
     * .50 .55 .60 .65 .70, a miss at .75 .80 .85 .90 .95 (AP 0 there:
     * rc=[0], pr=[0]). AP50 = 1, AP = 5/10. */
    img *m = new_img(1);
    m->g[m->n_gt++] = gt(0, 0, 0, 10, 10);
    m->d[m->n_dt++] = det(0, 0.9f, 0, 0, 10, 7.2f);
    oct_coco_result r = score(m, 1);
    CHECK(NEAR(r.map50, 1) && fabs(r.map - 0.5) < 1e-6 && fabs(r.map75) < 1e-9,
          "iou thresholds: map %.12g map50 %g", r.map, r.map50);
    oct_coco_result_free(&r);
    free(m);
}

static void test_crowded(void) {
    /* G1=[0,0,10,10], G2=[3,0,10,10]. d1 (.9) = [1.5,0,10,10] overlaps both
     * by 8.5x10: IoU 85/115 = .739 with each. pycocotools keeps the later
     * of equal IoUs ('<' only skips), so d1 takes G2 at thresholds
     * .50....70. d2 (.8) = G1 exactly takes G1 everywhere.
     * .50....70: tp=[1,2]: AP 1.
     * .75....95: d1 misses: tp=[0,1] fp=[1,1], rc=[0,.5], pr -> [.5,.5];
     * recall points 0....5 (51) read .5, the rest 0: AP = 25.5/101.
     * AP = (5 + 5*25.5/101)/10. (Had d1 taken G1, d2 would take G2 only at
     * .50 (IoU 70/130 = .538) and AP would differ.) */
    img *m = new_img(1);
    m->g[m->n_gt++] = gt(0, 0, 0, 10, 10);
    m->g[m->n_gt++] = gt(0, 3, 0, 10, 10);
    m->d[m->n_dt++] = det(0, 0.9f, 1.5f, 0, 10, 10);
    m->d[m->n_dt++] = det(0, 0.8f, 0, 0, 10, 10);
    oct_coco_result r = score(m, 1);
    double want = (5 + 5 * 25.5 / 101) / 10;
    CHECK(NEAR(r.map, want) && NEAR(r.map50, 1), "crowded: map %.12g (want %.12g) map50 %g", r.map,
          want, r.map50);
    oct_coco_result_free(&r);

    /* Five boxes in a row at x = 0,2,4,6,8 (10x10), each found exactly
     * (E0 .9, E2 .85, E4 .8, E6 .75, E8 .7), plus a stray detection S (.99)
     * at x=4.5. For equal heights IoU = (10-dx)/(10+dx): S-G4 .905, S-G6
     * .739; neighbours 2 apart .667, 4 apart .43.
     * .50....65 (4 thresholds): S takes G4, so E4 takes the unmatched G6
     * (.667), E6 then G8 (.667), and E8 finds every box taken: ranks TP TP
     * TP TP TP FP, recall 1 reached at precision 1: AP 1.
     * .70....90 (5): S takes G4, E4 has nothing left above the threshold
     * (FP), E6 and E8 find their own: tp=[1,2,3,3,4,5] fp=[0,0,0,1,1,1],
     * rc=[.2,.4,.6,.6,.8,1], pr=[1,1,1,.75,.8,5/6] -> envelope
     * [1,1,1,5/6,5/6,5/6]: recall points 0....6 (61) read 1 (searchsorted
     * finds rc[2] = .6 for the point .6), .61...1 (40) read 5/6:
     * AP = (61 + 40*5/6)/101.
     * .95: S misses and ranks first, the five exact ones hit:
     * rc=[0,.2,...,1], pr=[0,1/2,2/3,3/4,4/5,5/6] -> 5/6 everywhere.
     * mAP = (4 + 5*(61 + 40*5/6)/101 + 5/6)/10 = .950330 (pycocotools
     * gives the same), mAP50 = 1. */
    free(m);
    m = new_img(2);
    for (int k = 0; k < 5; k++)
        m->g[m->n_gt++] = gt(0, 2 * k, 0, 10, 10);
    m->d[m->n_dt++] = det(0, 0.99f, 4.5f, 0, 10, 10);
    for (int k = 0; k < 5; k++)
        m->d[m->n_dt++] = det(0, 0.9f - 0.05f * k, (float)(2 * k), 0, 10, 10);
    r = score(m, 1);
    want = (4 + 5 * (61 + 40 * 5.0 / 6) / 101 + 5.0 / 6) / 10;
    CHECK(NEAR(r.map, want) && NEAR(r.map50, 1), "crowded row: map %.12g (want %.12g) map50 %.12g",
          r.map, want, r.map50);
    oct_coco_result_free(&r);
    free(m);
}

static void test_crowd_region(void) {
    /* A crowd region [0,0,100,100] and a real box. Detections inside the
     * crowd match it (IoU = intersection / detection area = 1), any number
     * of them, and are ignored rather than false positives:
     * tp=[0,1,1] fp=[0,0,0] -> rc=[0,1,1] pr=[0,1,1] -> envelope 1: AP 1. */
    img *m = new_img(1);
    m->g[m->n_gt++] = gt(0, 0, 0, 100, 100);
    m->g[0].iscrowd = 1;
    m->g[m->n_gt++] = gt(0, 200, 200, 10, 10);
    m->d[m->n_dt++] = det(0, 0.9f, 10, 10, 20, 20);
    m->d[m->n_dt++] = det(0, 0.8f, 200, 200, 10, 10);
    m->d[m->n_dt++] = det(0, 0.7f, 50, 50, 10, 10);
    oct_coco_result r = score(m, 1);
    CHECK(NEAR(r.map, 1) && r.n_gt == 1, "crowd: map %.12g n_gt %d", r.map, r.n_gt);
    oct_coco_result_free(&r);
    free(m);
}

static void test_max_dets(void) {
    /* One box, 99 (then 100) stronger false positives before the hit. With
     * 99 the hit is the 100th: pr at recall 1 is 1/100, AP = .01. With 100
     * it is the 101st, cut by maxDets=100: AP 0. */
    for (int extra = 99; extra <= 100; extra++) {
        img *m = new_img(1);
        m->g[m->n_gt++] = gt(0, 0, 0, 10, 10);
        for (int k = 0; k < extra; k++)
            m->d[m->n_dt++] = det(0, 0.9f - 0.001f * k, 500, 500, 10, 10);
        m->d[m->n_dt++] = det(0, 0.5f, 0, 0, 10, 10);
        oct_coco_result r = score(m, 1);
        double want = extra == 99 ? 0.01 : 0;
        CHECK(NEAR(r.map50, want) && r.classes[0].n_det == 100,
              "maxDets: %d before the hit: map50 %.12g (want %g)", extra, r.map50, want);
        oct_coco_result_free(&r);
        free(m);
    }
}

static void test_image_order(void) {
    /* Equal scores in two images: pycocotools concatenates images by
     * ascending id before its stable sort, so image 1's hit comes before
     * image 2's miss whatever order they were added in: tp=[1,1] fp=[0,1],
     * rc=[1,1], pr=[1,.5]: AP 1 (it would be .5 the other way round). */
    img ims[2];
    memset(ims, 0, sizeof ims);
    ims[0].id = 2;
    ims[0].d[ims[0].n_dt++] = det(0, 0.5f, 0, 0, 10, 10);
    ims[1].id = 1;
    ims[1].g[ims[1].n_gt++] = gt(0, 0, 0, 10, 10);
    ims[1].d[ims[1].n_dt++] = det(0, 0.5f, 0, 0, 10, 10);
    oct_coco_result r = score(ims, 2);
    CHECK(NEAR(r.map, 1), "image order: map %.12g (want 1)", r.map);
    oct_coco_result_free(&r);
    oct_coco_eval *e = NULL;
    oct_error err = {0};
    oct_coco_eval_create(&e, &err);
    oct_coco_eval_add_image(e, 5, NULL, 0, NULL, 0, &err);
    CHECK(oct_coco_eval_add_image(e, 5, NULL, 0, NULL, 0, &err) == OCT_E_INVALID_ARG,
          "duplicate image id accepted");
    oct_coco_eval_free(e);
}

/* ---- decoders ---------------------------------------------------------- */
static void test_decode_v8(void) {
    /* [1, 4+2, 8]: a0 box (50,50,20,20) scores .9/.3; a1 (52,50,20,20) .8/0,
     * IoU .818 with a0; a2 (200,200,10,10) .0005/.6; a3 = a0's box, 0/.7.
     * Candidates above .001: a0c0 .9, a1c0 .8, a3c1 .7, a2c1 .6, a0c1 .3.
     * NMS at .7 per class: a1c0 falls to a0c0, a0c1 to a3c1. */
    /* Anchors 4..7 score 0: a detector has more anchors than rows. */
    float t[6][8] = {{50, 52, 200, 50}, {50, 50, 200, 50},        {20, 20, 10, 20},
                     {20, 20, 10, 20},  {0.9f, 0.8f, 0.0005f, 0}, {0.3f, 0, 0.6f, 0.7f}};
    oct_tensor_view v = {OCT_FLOAT, 3, {1, 6, 8}, t};
    oct_decode_options o;
    oct_decode_options_init(&o);
    o.decoder = OCT_DECODER_YOLOV8;
    oct_detection *d = NULL;
    int n = 0;
    oct_error err = {0};
    oct_status st = oct_decode_detections(&v, &o, NULL, &d, &n, &err);
    CHECK(!st && n == 3, "v8: status %d n %d %s", st, n, err.message);
    if (!st && n == 3) {
        CHECK(d[0].class_id == 0 && fabsf(d[0].score - 0.9f) < 1e-6f && d[0].x1 == 40 &&
                  d[0].y2 == 60,
              "v8 det 0");
        CHECK(d[1].class_id == 1 && fabsf(d[1].score - 0.7f) < 1e-6f, "v8 det 1");
        CHECK(d[2].class_id == 1 && fabsf(d[2].score - 0.6f) < 1e-6f && d[2].x1 == 195, "v8 det 2");
    }
    oct_free(d);
    /* Letterbox mapping: x = (x' - pad) / scale, clipped to the image. */
    /* The anchor count must fit the input: 8 anchors are the stride
     * 8/16/32/64 grids of a 32x8 input. */
    oct_image_info info = {100, 80, 32, 8, 0.5f, 0.5f, 10, 0};
    st = oct_decode_detections(&v, &o, &info, &d, &n, &err);
    CHECK(!st && n == 3 && d[0].x1 == 60 && d[0].y1 == 80 && d[0].x2 == 100 && d[0].y2 == 80,
          "v8 letterbox mapping: %g %g %g %g", n ? d[0].x1 : -1, n ? d[0].y1 : -1, n ? d[0].x2 : -1,
          n ? d[0].y2 : -1);
    oct_free(d);
    /* 8 anchors do not fit a 640x640 input (8400 do). */
    info.width = info.height = 640;
    st = oct_decode_detections(&v, &o, &info, &d, &n, &err);
    CHECK(st == OCT_E_SHAPE && strstr(err.message, "[N,4+C,8400]") && strstr(err.message, "1x6x8"),
          "v8 anchors vs input size: %d %s", st, err.message);
    /* A YOLOv5-shaped output does not fit: the message names the shape. */
    v.dims[1] = 25200;
    v.dims[2] = 85;
    st = oct_decode_detections(&v, &o, NULL, &d, &n, &err);
    CHECK(st == OCT_E_SHAPE && strstr(err.message, "1x25200x85"), "v8 wrong shape: %d %s", st,
          err.message);
}

static void test_decode_v5_v10(void) {
    /* [1,8,5+2]: score = objectness * class. a0 obj .5, classes .9/.1 ->
     * .45 and .05; a1 obj .0009 (dropped before the classes, though .0009 *
     * 1.0 would not pass either); a2 the same box as a0, obj 1, class 0 .4:
     * suppressed by a0c0 at IoU 1 > .6. */
    float t[8][7] = {{10, 10, 4, 4, 0.5f, 0.9f, 0.1f},
                     {30, 30, 4, 4, 0.0009f, 1, 1},
                     {10, 10, 4, 4, 1, 0.4f, 0}};
    oct_tensor_view v = {OCT_FLOAT, 3, {1, 8, 7}, t}; /* rows 3..7: objectness 0 */
    oct_decode_options o;
    oct_decode_options_init(&o);
    o.decoder = OCT_DECODER_YOLOV5;
    o.iou = 0.6f;
    oct_detection *d = NULL;
    int n = 0;
    oct_error err = {0};
    oct_status st = oct_decode_detections(&v, &o, NULL, &d, &n, &err);
    CHECK(!st && n == 2 && d[0].class_id == 0 && fabsf(d[0].score - 0.45f) < 1e-6f &&
              d[1].class_id == 1 && fabsf(d[1].score - 0.05f) < 1e-6f,
          "v5: %d n %d", st, n);
    oct_free(d);
    /* v10: rows above conf kept in score order, none suppressed. */
    float u[3][6] = {{1, 2, 3, 4, 0.2f, 5}, {5, 6, 7, 8, 0.7f, 1}, {0, 0, 1, 1, 0.0005f, 0}};
    oct_tensor_view w = {OCT_FLOAT, 3, {1, 3, 6}, u};
    o.decoder = OCT_DECODER_YOLOV10;
    st = oct_decode_detections(&w, &o, NULL, &d, &n, &err);
    CHECK(!st && n == 2 && d[0].class_id == 1 && d[1].class_id == 5 && d[1].x2 == 3, "v10: %d n %d",
          st, n);
    oct_free(d);
    w.dims[2] = 7;
    w.dims[1] = 2;
    st = oct_decode_detections(&w, &o, NULL, &d, &n, &err);
    CHECK(st == OCT_E_SHAPE && strstr(err.message, "1x2x7"), "v10 wrong shape: %s", err.message);
    oct_decoder dec;
    CHECK(oct_decoder_parse("yolov7", &dec, &err) == OCT_E_INVALID_ARG &&
              strstr(err.message, "yolov7"),
          "unknown decoder: %s", err.message);
}

/* ---- labels ------------------------------------------------------------ */
static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_labels(void) {
    char dir[] = "/tmp/octet-test-eval-XXXXXX", path[256];
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    oct_gt_box *g = NULL;
    int n = 0, missing = 0;
    oct_error err = {0};
    snprintf(path, sizeof path, "%s/a.txt", dir);
    write_file(path, "0 0.5 0.5 0.2 0.4\n\n1 0.25 0.25 0.5 0.5\r\n");
    oct_status st = oct_eval_read_yolo_labels(path, 200, 100, 2, &g, &n, &missing, &err);
    CHECK(!st && n == 2 && !missing && NEAR(g[0].x, 80) && NEAR(g[0].y, 30) && NEAR(g[0].w, 40) &&
              NEAR(g[0].h, 40) && g[1].class_id == 1 && NEAR(g[1].x, 0),
          "yolo labels: %d n %d %s", st, n, err.message);
    free(g);
    write_file(path, "0 0.5 0.5 0.2 0.4\n2 0.5 0.5 0.2 0.2\n");
    st = oct_eval_read_yolo_labels(path, 200, 100, 2, &g, &n, &missing, &err);
    CHECK(st == OCT_E_PARSE && strstr(err.message, "a.txt:2:") && strstr(err.message, "class 2"),
          "class out of range: %s", err.message);
    write_file(path, "0 0.5 zero 0.2 0.4\n");
    st = oct_eval_read_yolo_labels(path, 200, 100, 2, &g, &n, &missing, &err);
    CHECK(st == OCT_E_PARSE && strstr(err.message, "a.txt:1:"), "malformed: %s", err.message);
    write_file(path, "0 0.5 0.5 0.2\n");
    st = oct_eval_read_yolo_labels(path, 200, 100, 2, &g, &n, &missing, &err);
    CHECK(st == OCT_E_PARSE && strstr(err.message, "a.txt:1:") && strstr(err.message, "5 fields"),
          "short line: %s", err.message);
    write_file(path, "0 1.5 0.5 0.2 0.2\n");
    st = oct_eval_read_yolo_labels(path, 200, 100, 2, &g, &n, &missing, &err);
    CHECK(st == OCT_E_PARSE && strstr(err.message, "outside 0..1"), "out of range box: %s",
          err.message);
    remove(path);
    snprintf(path, sizeof path, "%s/none.txt", dir);
    st = oct_eval_read_yolo_labels(path, 200, 100, 2, &g, &n, &missing, &err);
    CHECK(!st && missing == 1 && n == 0, "missing label file: %d %d", st, missing);
    rmdir(dir);
}

int main(void) {
    test_perfect();
    test_fp_above_tp();
    test_duplicate();
    test_class_without_gt();
    test_iou_thresholds();
    test_crowded();
    test_crowd_region();
    test_max_dets();
    test_image_order();
    test_decode_v8();
    test_decode_v5_v10();
    test_labels();
    return check_summary();
}
